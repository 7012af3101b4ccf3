import { expect } from 'chai';
import { EdgesealError, type ErrorCode } from '../../src/core/errors.js';

// Asserts that fn throws an EdgesealError with the given code (tests assert codes, not messages).
export function expectCode(fn: () => unknown, code: ErrorCode): EdgesealError {
  try {
    fn();
  } catch (err) {
    expect(err, `expected ${code}, got ${String(err)}`).to.be.instanceOf(EdgesealError);
    expect((err as EdgesealError).code).to.equal(code);
    return err as EdgesealError;
  }
  expect.fail(`expected an EdgesealError with code ${code}, but nothing was thrown`);
}

// The async twin of expectCode.
export async function expectCodeAsync(fn: () => Promise<unknown>, code: ErrorCode): Promise<EdgesealError> {
  try {
    await fn();
  } catch (err) {
    expect(err, `expected ${code}, got ${String(err)}`).to.be.instanceOf(EdgesealError);
    expect((err as EdgesealError).code).to.equal(code);
    return err as EdgesealError;
  }
  expect.fail(`expected an EdgesealError with code ${code}, but nothing was thrown`);
}
