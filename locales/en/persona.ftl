# /persona: preset system prompts (personas), picked from an inline keyboard.

cmd-persona = Pick a persona (a preset system prompt)
persona-title-chat = **Persona for this chat**
persona-title-member = **Your persona in this group**
persona-current = In use: { $name }
persona-tap = Tap one to use it. /system shows the prompt; admins set their own there, which stays a choice here ("Custom").
persona-tap-private = Tap one to use it. /system shows the prompt or sets your own, which then stays a choice here ("Custom").
persona-tap-admins = Only this group's admins can change it. /system shows the prompt.
system-current-persona = **This chat uses the persona “{ $name }”:**
persona-custom = Custom (/system)
persona-picked = Now using: { $name }
persona-admin-only = Only this group's admins can pick its persona.
persona-unknown = That persona is no longer available.
persona-no-custom = This chat has no custom prompt: an admin sets one with /system.
