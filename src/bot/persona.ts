/**
 * Which persona an update's answer uses (services/personas.ts resolves it; this file knows whose choice counts).
 * A private chat's user picks for their chat; in groups the admins pick the chat's, and with one history per member
 * each member may pick their own, which wins over the chat's.
 */
import type { BotContext } from "./context.js";
import { senderIdOf } from "./sender.js";
import { isPerMemberHistory } from "./target.js";
import { personaInForce, type PersonaInForce, type PersonaLocale } from "../services/personas.js";
import type { ChatSettings } from "../storage/settings.js";

/** Whose choice a /persona press changes: the chat's (its settings) or one member's in a per-member group. */
export type PersonaScope = { kind: "chat" } | { kind: "member"; chatId: number; memberId: number };

/** The scope of this update's sender in its chat. */
export function personaScopeOf(ctx: BotContext, settings: ChatSettings): PersonaScope {
  const memberId = senderIdOf(ctx);
  if (ctx.chat && memberId !== undefined && isPerMemberHistory(ctx, settings)) return { kind: "member", chatId: ctx.chat.id, memberId };
  return { kind: "chat" };
}

/** The language a persona's prompt and name are given in: the one the bot speaks to this user in. */
export async function personaLocaleOf(ctx: BotContext): Promise<PersonaLocale> {
  return (await ctx.i18n.getLocale()) === "zh" ? "zh" : "en";
}

/** The system prompt in force for this update's answer, and which choice it is. */
export async function personaOf(ctx: BotContext, settings: ChatSettings): Promise<PersonaInForce> {
  const { personas, personaChoices } = ctx.deps;
  const scope = personaScopeOf(ctx, settings);
  const member = scope.kind === "member" ? await personaChoices.get(scope.chatId, scope.memberId) : undefined;
  const choice = { member, chat: settings.persona, customPrompt: settings.systemPrompt };
  return personaInForce(personas, choice, await personaLocaleOf(ctx));
}
