#!/usr/bin/env node
import { dispatch } from './dispatch.js';

process.exitCode = await dispatch(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  isTTY: Boolean(process.stdout.isTTY),
});
