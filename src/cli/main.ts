#!/usr/bin/env node
import { dispatch } from './dispatch.js';

// A reader that went away (`edgeseal verify … | head -1`) must neither print a stack trace nor change
// the exit code a script reads: the rest of the output is dropped and the command ends with its own code.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

process.exitCode = await dispatch(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  isTTY: Boolean(process.stdout.isTTY),
});
