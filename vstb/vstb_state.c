#include "vstb_state.h"

#include <string.h>

const char *const vstb_keys[] = {
    "KEY_POWER",     "KEY_HOME",        "KEY_MENU",     "KEY_BACK",
    "KEY_OK",        "KEY_UP",          "KEY_DOWN",     "KEY_LEFT",
    "KEY_RIGHT",     "KEY_TV",          "KEY_INFO",     "KEY_EPG",
    "KEY_CHANNELUP", "KEY_CHANNELDOWN", "KEY_VOLUMEUP", "KEY_VOLUMEDOWN",
    "KEY_MUTE",      "KEY_PLAY",        "KEY_PAUSE",    "KEY_PLAYPAUSE",
    "KEY_STOP",      "KEY_FASTFORWARD", "KEY_REWIND",   "KEY_RECORD",
    "KEY_RED",       "KEY_GREEN",       "KEY_YELLOW",   "KEY_BLUE",
    "KEY_0",         "KEY_1",           "KEY_2",        "KEY_3",
    "KEY_4",         "KEY_5",           "KEY_6",        "KEY_7",
    "KEY_8",         "KEY_9",           NULL,
};

const char *const vstb_menu_items[VSTB_MENU_ITEMS] = {"LIVE TV", "GUIDE", "RECORDINGS", "SETTINGS",
                                                      "HELP"};

enum { MAX_CHANNEL = 999 };

void vstb_state_init(vstb_state *s)
{
    memset(s, 0, sizeof(*s));
    s->screen = VSTB_HOME;
    s->menu_from = VSTB_HOME;
    s->channel = VSTB_FIRST_CHANNEL;
}

int vstb_key_known(const char *key)
{
    for (size_t i = 0; vstb_keys[i]; i++) {
        if (!strcmp(vstb_keys[i], key))
            return 1;
    }
    return 0;
}

static void tune(vstb_state *s, int channel)
{
    if (channel < 1)
        channel = MAX_CHANNEL;
    if (channel > MAX_CHANNEL)
        channel = 1;
    s->screen = VSTB_LIVE;
    s->channel = channel;
    s->paused = 0;
    s->n_digits = 0;
    s->digits = 0;
}

/* A digit key's value, or -1. */
static int digit_of(const char *key)
{
    if (!strncmp(key, "KEY_", 4) && key[4] >= '0' && key[4] <= '9' && !key[5])
        return key[4] - '0';
    return -1;
}

static void press_live(vstb_state *s, const char *key)
{
    int d = digit_of(key);
    if (d >= 0) {
        s->digits = s->digits * 10 + d;
        if (++s->n_digits == 3)
            tune(s, s->digits ? s->digits : s->channel);
        return;
    }
    if (s->n_digits) { /* typing a number: only OK and BACK mean anything */
        if (!strcmp(key, "KEY_OK"))
            tune(s, s->digits ? s->digits : s->channel);
        else if (!strcmp(key, "KEY_BACK"))
            s->n_digits = s->digits = 0;
        return;
    }
    if (!strcmp(key, "KEY_CHANNELUP"))
        tune(s, s->channel + 1);
    else if (!strcmp(key, "KEY_CHANNELDOWN"))
        tune(s, s->channel - 1);
    else if (!strcmp(key, "KEY_PAUSE"))
        s->paused = 1;
    else if (!strcmp(key, "KEY_PLAY"))
        s->paused = 0;
    else if (!strcmp(key, "KEY_PLAYPAUSE"))
        s->paused = !s->paused;
    else if (!strcmp(key, "KEY_BACK"))
        s->screen = VSTB_HOME;
    else if (!strcmp(key, "KEY_MENU")) {
        s->screen = VSTB_MENU;
        s->menu_from = VSTB_LIVE;
        s->menu_index = 0;
    }
}

static void press_menu(vstb_state *s, const char *key)
{
    if (!strcmp(key, "KEY_UP"))
        s->menu_index = (s->menu_index + VSTB_MENU_ITEMS - 1) % VSTB_MENU_ITEMS;
    else if (!strcmp(key, "KEY_DOWN"))
        s->menu_index = (s->menu_index + 1) % VSTB_MENU_ITEMS;
    else if (!strcmp(key, "KEY_BACK") || !strcmp(key, "KEY_MENU"))
        s->screen = s->menu_from;
    else if (!strcmp(key, "KEY_OK") && s->menu_index == 0)
        tune(s, s->channel);
}

static void press_home(vstb_state *s, const char *key)
{
    if (!strcmp(key, "KEY_MENU")) {
        s->screen = VSTB_MENU;
        s->menu_from = VSTB_HOME;
        s->menu_index = 0;
    } else if (!strcmp(key, "KEY_OK")) {
        tune(s, s->channel);
    } else if (!strcmp(key, "KEY_CHANNELUP")) {
        tune(s, s->channel + 1);
    } else if (!strcmp(key, "KEY_CHANNELDOWN")) {
        tune(s, s->channel - 1);
    }
}

int vstb_state_press(vstb_state *s, const char *key)
{
    if (!vstb_key_known(key))
        return 0;
    if (!strcmp(key, "KEY_POWER")) {
        if (s->screen == VSTB_STANDBY)
            vstb_state_init(s);
        else
            s->screen = VSTB_STANDBY;
        return 1;
    }
    if (s->screen == VSTB_STANDBY)
        return 1; /* only KEY_POWER wakes it */
    if (!strcmp(key, "KEY_HOME")) {
        s->screen = VSTB_HOME;
        s->n_digits = s->digits = 0;
        return 1;
    }
    if (!strcmp(key, "KEY_TV")) {
        tune(s, s->channel);
        return 1;
    }
    switch (s->screen) {
    case VSTB_HOME:
        press_home(s, key);
        break;
    case VSTB_MENU:
        press_menu(s, key);
        break;
    case VSTB_LIVE:
        press_live(s, key);
        break;
    case VSTB_STANDBY:
        break;
    }
    return 1;
}
