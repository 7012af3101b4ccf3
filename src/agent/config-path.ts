// Where the agent and the commands that share its config look by default (a module of its own, so
// `edgeseal agent` can name it before it loads the config schema; see src/cli/agent.ts).
export const DEFAULT_CONFIG_PATH = '/etc/edgeseal/config.json';
