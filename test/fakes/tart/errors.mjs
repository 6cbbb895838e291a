/** A failure with tart's exit code and message (RuntimeError: 2 for missing/not running, else 1). */
export class TartExit extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** ArgumentParser's validation errors: `Error: …` plus a usage hint, exit code 64 (EX_USAGE). */
export class UsageError extends TartExit {
  constructor(command, message) {
    super(
      64,
      `Error: ${message}\nUsage: tart ${command} …\n  See 'tart ${command} --help' for more information.`,
    );
  }
}
