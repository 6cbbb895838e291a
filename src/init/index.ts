export { type AnswerKey, answersSchema, type InitAnswers } from './answers.js';
export { configFromAnswers, renderInitConfig } from './build-config.js';
export { collectAnswers } from './collect.js';
export { InitError, type InitErrorCode } from './errors.js';
export { nextSteps } from './next-steps.js';
export { inquirerPrompter, isPromptCancelled, type Prompter, type PromptStreams } from './prompter.js';
export { QUESTIONS } from './questions.js';
export { type InitOptions, type InitResult, runInit } from './run-init.js';
