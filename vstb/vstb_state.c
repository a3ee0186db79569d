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

const char *const vstb_guide_titles[VSTB_GUIDE_ROWS] = {
    "NEWS AT NINE",    "WEATHER WATCH",   "THE LONG ROAD",
    "COOKING ON FIRE", "SPACE EXPLORERS", "LATE NIGHT JAZZ",
};

const char *const vstb_search_grid[VSTB_SEARCH_ROWS] = {"ABCDEF", "GHIJKL", "MNOPQR",
                                                        "STUVWX", "YZ1234", "567890"};
const char *const vstb_search_wide[VSTB_SEARCH_WIDE] = {"SPACE", "DEL", "CLEAR"};

enum {
    MAX_CHANNEL = 999,
    GRID_KEYS = VSTB_SEARCH_COLS * VSTB_SEARCH_ROWS,
    WIDE_SPAN = VSTB_SEARCH_COLS / VSTB_SEARCH_WIDE, /* grid columns under one wide key */
    WIDE_SPACE = GRID_KEYS,
    WIDE_DEL,
    WIDE_CLEAR
};

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

static void open_search(vstb_state *s)
{
    s->screen = VSTB_SEARCH;
    s->search_key = 0;
    memset(s->search_text, 0, sizeof(s->search_text));
}

static void press_menu(vstb_state *s, const char *key)
{
    if (!strcmp(key, "KEY_UP"))
        s->menu_index = (s->menu_index + VSTB_MENU_ITEMS - 1) % VSTB_MENU_ITEMS;
    else if (!strcmp(key, "KEY_DOWN"))
        s->menu_index = (s->menu_index + 1) % VSTB_MENU_ITEMS;
    else if (!strcmp(key, "KEY_BACK") || !strcmp(key, "KEY_MENU"))
        s->screen = s->menu_from;
    else if (strcmp(key, "KEY_OK"))
        return;
    else if (s->menu_index == 0)
        tune(s, s->channel);
    else if (s->menu_index == VSTB_MENU_GUIDE) {
        s->screen = VSTB_LOADING;
        s->loading_tick = 0;
        s->guide_index = 0;
    } else if (s->menu_index == VSTB_MENU_SEARCH)
        open_search(s);
}

/* Back to the menu a screen was opened from, its highlight where it was. */
static int back_to_menu(vstb_state *s, const char *key)
{
    if (strcmp(key, "KEY_BACK") && strcmp(key, "KEY_MENU"))
        return 0;
    s->screen = VSTB_MENU;
    return 1;
}

static void press_guide(vstb_state *s, const char *key)
{
    if (back_to_menu(s, key))
        return;
    if (!strcmp(key, "KEY_UP"))
        s->guide_index = (s->guide_index + VSTB_GUIDE_ROWS - 1) % VSTB_GUIDE_ROWS;
    else if (!strcmp(key, "KEY_DOWN"))
        s->guide_index = (s->guide_index + 1) % VSTB_GUIDE_ROWS;
    else if (!strcmp(key, "KEY_OK"))
        tune(s, s->guide_index + 1);
}

static void type_char(vstb_state *s, char c)
{
    size_t n = strlen(s->search_text);
    if (n < VSTB_SEARCH_MAX)
        s->search_text[n] = c;
}

static void press_search(vstb_state *s, const char *key)
{
    if (back_to_menu(s, key))
        return;
    int k = s->search_key;
    int row = k / VSTB_SEARCH_COLS, col = k % VSTB_SEARCH_COLS;
    if (k >= GRID_KEYS) { /* a wide key */
        int w = k - GRID_KEYS;
        if (!strcmp(key, "KEY_LEFT") && w > 0)
            s->search_key--;
        else if (!strcmp(key, "KEY_RIGHT") && w < VSTB_SEARCH_WIDE - 1)
            s->search_key++;
        else if (!strcmp(key, "KEY_UP"))
            s->search_key = (VSTB_SEARCH_ROWS - 1) * VSTB_SEARCH_COLS + w * WIDE_SPAN;
    } else if (!strcmp(key, "KEY_LEFT") && col > 0) {
        s->search_key--;
    } else if (!strcmp(key, "KEY_RIGHT") && col < VSTB_SEARCH_COLS - 1) {
        s->search_key++;
    } else if (!strcmp(key, "KEY_UP") && row > 0) {
        s->search_key -= VSTB_SEARCH_COLS;
    } else if (!strcmp(key, "KEY_DOWN")) {
        s->search_key =
            row < VSTB_SEARCH_ROWS - 1 ? k + VSTB_SEARCH_COLS : GRID_KEYS + col / WIDE_SPAN;
    }
    if (strcmp(key, "KEY_OK"))
        return;
    if (k < GRID_KEYS)
        type_char(s, vstb_search_grid[row][col]);
    else if (k == WIDE_SPACE)
        type_char(s, ' ');
    else if (k == WIDE_DEL && s->search_text[0])
        s->search_text[strlen(s->search_text) - 1] = '\0';
    else if (k == WIDE_CLEAR)
        memset(s->search_text, 0, sizeof(s->search_text));
}

int vstb_state_animating(const vstb_state *s)
{
    return s->screen == VSTB_LOADING;
}

int vstb_state_tick(vstb_state *s)
{
    if (!vstb_state_animating(s))
        return 0;
    if (++s->loading_tick >= VSTB_LOADING_TICKS)
        s->screen = VSTB_GUIDE;
    return 1;
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
    case VSTB_LOADING:
        back_to_menu(s, key);
        break;
    case VSTB_GUIDE:
        press_guide(s, key);
        break;
    case VSTB_SEARCH:
        press_search(s, key);
        break;
    case VSTB_STANDBY:
        break;
    }
    return 1;
}
