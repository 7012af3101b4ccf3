import { EdgesealError } from '../core/errors.js';

// Loads a package the device install leaves out (package.json peerDependencies, optional: the demo's
// broker, the fleet side's database and metrics libraries) only when the feature needing it runs.
// `load` is the literal `() => import('name')`, so the module keeps its types.
export async function optionalDependency<M>(name: string, feature: string, load: () => Promise<M>): Promise<M> {
  try {
    return await load();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_MODULE_NOT_FOUND' && e.message.includes(`'${name}'`)) {
      throw new EdgesealError('DEPENDENCY_MISSING', `${feature} needs the npm package ${name}: expected it in node_modules, found none (npm install ${name}; the device install leaves it out, see docs/packaging.md)`, { cause: err });
    }
    throw err;
  }
}
