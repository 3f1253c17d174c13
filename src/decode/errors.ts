/**
 * An error whose message is meant for the user as it is: one line, naming the problem.
 * Anything else reaching the CLI is reported as an internal error.
 */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'UserError';
  }
}
