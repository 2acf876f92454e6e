/**
 * Which chat model a chat uses. /settings stores a choice from ALLOWED_MODELS; the operator may since have removed
 * it, and then the chat falls back to OPENAI_MODEL. Answers, /settings and /tokens all follow this one rule.
 */

/** The part of the configuration the rule needs. */
export interface ModelConfig {
  openai: { model: string };
  allowedModels: readonly string[];
}

/** The chat's own choice while the operator still allows it, else undefined. */
export function chosenModel(config: ModelConfig, settings: { model?: string }): string | undefined {
  return settings.model && config.allowedModels.includes(settings.model) ? settings.model : undefined;
}

/** The model a chat uses: its choice while that is still allowed, else the configured one. */
export function effectiveModel(config: ModelConfig, settings: { model?: string }): string {
  return chosenModel(config, settings) ?? config.openai.model;
}
