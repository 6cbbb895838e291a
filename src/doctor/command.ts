import { ConfigError } from '../config/index.js';
import { type DoctorOptions, diagnose } from './diagnose.js';
import { renderDoctor } from './render.js';

export interface DoctorCommandOptions extends DoctorOptions {
  json: boolean;
  color: boolean;
  write: (text: string) => void;
  writeError: (text: string) => void;
}

/** Runs doctor and prints its report; resolves with the exit code (1 when anything is left or failed). */
export async function doctorCommand(opts: DoctorCommandOptions): Promise<number> {
  let report: Awaited<ReturnType<typeof diagnose>>;
  try {
    report = await diagnose(opts);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    opts.writeError(
      `${err.message}\n\ndoctor reads the whole config, secrets included, to reach every backend: run it with the daemon's environment. runner validate lists every problem.\n`,
    );
    return 1;
  }
  opts.write(
    opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderDoctor(report, { color: opts.color }),
  );
  return report.ok ? 0 : 1;
}
