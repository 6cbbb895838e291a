import { resolve } from 'node:path';
import { DOCKER_DEFAULT_IMAGE, runnerImageProblem } from '../config/index.js';
import { RUNNERS_MAX } from '../schema/fields.js';
import { type AnswerKey, type AnswerValue, type PartialAnswers, TART_HOST_VMS } from './answers.js';
import { checkEnvName, checkNonEmpty, checkPrivateKeyFile, checkUrl } from './validators.js';

type Dynamic<T> = T | ((a: PartialAnswers) => T);

interface QuestionBase {
  key: AnswerKey;
  /** The flag that answers it, e.g. `--max-runners`. */
  flag: string;
  message: Dynamic<string>;
  /** The flag's --help line, where the question does not read as one. */
  help?: string;
  /** Whether the question applies, given the answers before it. */
  when?: (a: PartialAnswers) => boolean;
  /** The answer when none is given; no default means the answer is required. */
  default?: (a: PartialAnswers) => AnswerValue | undefined;
  /** Said before the question is asked, e.g. a warning about what a yes means. */
  note?: (a: PartialAnswers) => string | undefined;
}

export interface TextQuestion extends QuestionBase {
  kind: 'text';
  /** Applied before `check`, e.g. a relative path made absolute. */
  normalize?: (value: string, cwd: string) => string;
  check: (value: string, a: PartialAnswers) => string | undefined | Promise<string | undefined>;
}

export interface IntQuestion extends QuestionBase {
  kind: 'int';
  min: number;
  max?: (a: PartialAnswers) => number;
}

export interface ChoiceQuestion extends QuestionBase {
  kind: 'choice';
  choices: readonly { value: string; name: string; description?: string }[];
}

export interface ConfirmQuestion extends QuestionBase {
  kind: 'confirm';
}

export type Question = TextQuestion | IntQuestion | ChoiceQuestion | ConfirmQuestion;

const isPat = (a: PartialAnswers) => a.auth === 'pat';
const isApp = (a: PartialAnswers) => a.auth === 'app';
const onBackend =
  (...names: string[]) =>
  (a: PartialAnswers) =>
    a.backend !== undefined && names.includes(a.backend);

/**
 * Every question `runner init` may ask, in order. The wizard asks the ones that apply and that no
 * flag answered; without a terminal, the same list names the flags still missing. Only what a
 * working config cannot do without is here: everything else keeps its documented default.
 */
export const QUESTIONS: readonly Question[] = [
  {
    key: 'url',
    flag: '--url',
    kind: 'text',
    message: 'GitHub URL runners register at (org, repo or enterprise)',
    normalize: (v) => v.trim(),
    check: checkUrl,
  },
  {
    key: 'name',
    flag: '--name',
    kind: 'text',
    message: 'Scale set name (jobs target it with runs-on)',
    normalize: (v) => v.trim(),
    check: checkNonEmpty,
  },
  {
    key: 'auth',
    flag: '--auth',
    kind: 'choice',
    message: 'How runner authenticates to GitHub',
    choices: [
      { value: 'pat', name: 'Personal access token', description: 'read from an environment variable' },
      { value: 'app', name: 'GitHub App', description: 'client ID, installation ID and a PEM key file' },
    ],
    default: () => 'pat',
  },
  {
    key: 'tokenEnv',
    flag: '--token-env',
    kind: 'text',
    message: 'Environment variable that will hold the token (the file only names it)',
    when: isPat,
    default: () => 'RUNNER_TOKEN',
    normalize: (v) => v.trim(),
    check: checkEnvName,
  },
  {
    key: 'appClientId',
    flag: '--app-client-id',
    kind: 'text',
    message: 'GitHub App client ID (Iv…), or its numeric App ID',
    when: isApp,
    normalize: (v) => v.trim(),
    check: checkNonEmpty,
  },
  {
    key: 'appInstallationId',
    flag: '--app-installation-id',
    kind: 'int',
    message: 'Installation ID of the App on that org or repo',
    when: isApp,
    min: 1,
  },
  {
    key: 'appPrivateKey',
    flag: '--app-private-key',
    kind: 'text',
    message: 'Path of the App’s PEM private key',
    when: isApp,
    normalize: (v, cwd) => (v.trim() === '' ? '' : resolve(cwd, v.trim())),
    check: checkPrivateKeyFile,
  },
  {
    key: 'backend',
    flag: '--backend',
    kind: 'choice',
    message: 'Where runners run',
    choices: [
      { value: 'docker', name: 'docker', description: 'containers on a Docker engine' },
      { value: 'tart', name: 'tart', description: 'macOS VMs on this Mac' },
      { value: 'dedalus', name: 'dedalus', description: 'Dedalus cloud machines' },
    ],
    default: () => 'docker',
  },
  {
    key: 'runnerImage',
    flag: '--runner-image',
    kind: 'text',
    message: (a) => (a.backend === 'tart' ? 'Tart VM image to clone runners from' : 'Runner container image'),
    help: 'runner container image (docker), or VM image to clone (tart; required)',
    when: onBackend('docker', 'tart'),
    // Tart has no sensible default image: a macOS VM with the runner installed is the user's choice.
    default: (a) => (a.backend === 'docker' ? DOCKER_DEFAULT_IMAGE : undefined),
    normalize: (v) => v.trim(),
    // The rule `run` applies, so init cannot write an image the daemon would refuse.
    check: (v, a) =>
      checkNonEmpty(v) ?? (a.backend === undefined ? undefined : runnerImageProblem(a.backend, v)),
  },
  {
    key: 'dind',
    flag: '--dind',
    kind: 'confirm',
    message: 'Mount the host Docker socket into runners (docker-in-docker)?',
    help: 'mount the host Docker socket into runners: every job then controls the host (--no-dind: off)',
    when: onBackend('docker'),
    default: () => false,
    note: () =>
      'Warning: with the Docker socket, any job can control the host and every other runner on it. Only for trusted repositories.',
  },
  {
    key: 'poolSize',
    flag: '--pool-size',
    kind: 'int',
    message: `VMs kept booted and waiting (0 to ${TART_HOST_VMS}; each counts against Apple's ${TART_HOST_VMS}-VM limit)`,
    when: onBackend('tart'),
    min: 0,
    max: () => TART_HOST_VMS,
    default: () => 0,
  },
  {
    key: 'dedalusApiKeyEnv',
    flag: '--dedalus-api-key-env',
    kind: 'text',
    message: 'Environment variable that will hold the Dedalus API key',
    when: onBackend('dedalus'),
    default: () => 'DEDALUS_API_KEY',
    normalize: (v) => v.trim(),
    check: checkEnvName,
  },
  {
    key: 'dedalusMax',
    flag: '--dedalus-max',
    kind: 'int',
    message: "Dedalus machines that may exist at once (your plan's quota)",
    when: onBackend('dedalus'),
    min: 1,
    max: () => RUNNERS_MAX,
    default: () => 5,
  },
  {
    key: 'maxRunners',
    flag: '--max-runners',
    kind: 'int',
    message: 'Most runners at once for this scale set',
    min: 1,
    max: () => RUNNERS_MAX,
    default: (a) => (a.backend === 'tart' ? TART_HOST_VMS : a.backend === 'dedalus' ? a.dedalusMax : 10),
    note: (a) =>
      a.backend === 'tart'
        ? `Note: macOS runs at most ${TART_HOST_VMS} VMs per host; runners beyond that wait for a free VM.`
        : undefined,
  },
];

export function messageOf(q: Question, a: PartialAnswers): string {
  return typeof q.message === 'function' ? q.message(a) : q.message;
}

export function applies(q: Question, a: PartialAnswers): boolean {
  return q.when?.(a) ?? true;
}
