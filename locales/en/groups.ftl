# Access control, admin-only commands (/system, /settings), rate limits and budgets.

access-denied = Sorry, this bot is private and not available to you here. Please ask its owner for access.
access-denied-title = Not available
admin-only = Only this group's admins can do that.
admin-only-button = Only this group's admins can change the settings.
reset-admin-only = Only this group's admins can reset its shared history. An admin can switch to one history per member in /settings.

cmd-system = Show or set this chat's system prompt
cmd-settings = Model, history and language for this chat

system-current-default = **This chat uses the default system prompt:**
system-current-custom = **This chat's system prompt:**
system-hint =
    { $admin ->
        [yes] Change it with /system followed by the new prompt; /system reset goes back to the default.
       *[no] Only this group's admins can change it.
    }
system-set = Done: the system prompt for this chat is set ({ $tokens } tokens). It is sent first with every question here.
system-reset-done = Done: this chat is back to the default system prompt.
system-too-long = That system prompt is too long: { $tokens } tokens, and at most { $max } are allowed. Please shorten it.

settings-title = **Settings for this chat**
settings-model = Model: { $model }
settings-history =
    History: { $mode ->
        [per-user] one per member
       *[shared] shared by the whole group
    }
settings-language =
    Language: { $language ->
        [en] English
        [zh] 中文
       *[auto] automatic (each person's Telegram language)
    }
settings-voice =
    Voice notes: { $voice ->
        [on] answered in text and in a voice message
       *[off] answered in text
    }
settings-tap = Tap a button to change a setting.
settings-button-shared = Shared history
settings-button-per-user = History per member
settings-button-auto = Automatic
settings-button-voice-on = 🔊 Answer voice with voice
settings-button-voice-off = Text only
settings-saved = Saved.
settings-unavailable = That option is no longer available.

rate-limited = You're asking faster than this bot allows. Please try again in { $seconds } s.

duration-hours-minutes =
    { $hours ->
        [0] { $minutes } min
       *[other] { $hours } h { $minutes } min
    }
budget-exceeded-tokens =
    { $scope ->
        [user] Your
       *[chat] This chat's
    } daily token budget doesn't cover this question: { $left } of { $limit } tokens left today, and it may need up to { $needed }. The budget renews at 00:00 UTC (in { $time }).
budget-exceeded-cost =
    { $scope ->
        [user] Your
       *[chat] This chat's
    } daily spending limit doesn't cover this question: { $left } of { $limit } left today, and it may cost up to { $needed }. The limit renews at 00:00 UTC (in { $time }).
budget-title = **Today's budget**
budget-line-tokens =
    { $scope ->
        [user] You
       *[chat] This chat
    }: { $left } of { $limit } tokens left
budget-line-cost =
    { $scope ->
        [user] You
       *[chat] This chat
    }: { $left } of { $limit } left
budget-held = (another { $held } held for answers being written now)
budget-resets = Renews at 00:00 UTC (in { $time }).
budget-owner-exempt = As the bot's owner you are not limited.
