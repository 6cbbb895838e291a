import { z } from 'zod';

/**
 * What `runner init` needs to know to write a config: one field per question of the wizard. Fields
 * that only apply to one auth kind or backend are optional; `answersSchema` checks the collected
 * answers once at the end, so the question table can stay a plain list.
 */
export const answersSchema = z.object({
  url: z.string(),
  name: z.string(),
  auth: z.enum(['pat', 'app']),
  /** PAT: the variable the daemon reads the token from (written as `token = "env:<tokenEnv>"`). */
  tokenEnv: z.string().optional(),
  appClientId: z.string().optional(),
  appInstallationId: z.number().int().optional(),
  /** Absolute path of the App's PEM key. */
  appPrivateKey: z.string().optional(),
  backend: z.enum(['docker', 'tart', 'dedalus']),
  /** docker and tart only. */
  runnerImage: z.string().optional(),
  dind: z.boolean().optional(),
  poolSize: z.number().int().optional(),
  dedalusApiKeyEnv: z.string().optional(),
  dedalusMax: z.number().int().optional(),
  maxRunners: z.number().int(),
});

export type InitAnswers = z.infer<typeof answersSchema>;
export type AnswerKey = keyof InitAnswers;
export type AnswerValue = string | number | boolean;

/** Answers gathered so far (from flags, then the wizard). */
export type PartialAnswers = Partial<InitAnswers>;

/** Apple's licence allows two macOS VMs per host, which is also tart.max-vms' default. */
export const TART_HOST_VMS = 2;
