import { EdgesealError } from '../core/errors.js';

// Fleet-only packages (pg, prom-client, …) are optional peer dependencies that never reach a device
// install: load them on first use and, when absent, say which package to install.
export async function importOptional<T>(name: string, purpose: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new EdgesealError('DEPENDENCY_MISSING', `${purpose}: expected the npm package '${name}', found it not installed (npm install ${name})`, { cause: err });
    }
    throw err;
  }
}
