/* vstb_state.h - what the virtual set-top box shows, and how each key changes it. Pure: the
 * picture is a function of this state alone (vstb_render.h), so the same keys from power-on
 * always give the same pixels.
 *
 *   HOME   --KEY_MENU-->  MENU  (highlight on the first item; KEY_UP/KEY_DOWN move it, wrapping)
 *   MENU   --KEY_BACK-->  the screen the menu was opened from
 *   MENU   --KEY_OK on "Live TV"-->  LIVE
 *   any    --KEY_TV-->  LIVE;  --KEY_HOME-->  HOME;  --KEY_POWER-->  STANDBY (and back to HOME)
 *   MENU   --KEY_OK on "GUIDE"-->  LOADING  --VSTB_LOADING_TICKS frames later-->  GUIDE
 *   MENU   --KEY_OK on "RECORDINGS"-->  SEARCH (an empty text field, the highlight on "A")
 *   HOME   --KEY_OK / KEY_CHANNELUP / KEY_CHANNELDOWN-->  LIVE
 *   LIVE   KEY_CHANNELUP/DOWN: channel +-1 (1..999, wrapping); KEY_0..KEY_9 type a channel
 *          number (it shows as typed; the third digit or KEY_OK tunes, KEY_BACK cancels);
 *          KEY_PAUSE pauses, KEY_PLAY resumes, KEY_PLAYPAUSE toggles; tuning resumes;
 *          KEY_BACK --> HOME.
 *   LOADING  an animation (a block sweeping along a bar) that moves on every frame
 *          (vstb_state_tick) and then stops: the GUIDE appears. KEY_BACK --> MENU.
 *   GUIDE  the programmes of channels 1..VSTB_GUIDE_ROWS as text (vstb_guide_titles), the
 *          highlighted row's title again in a panel below; KEY_UP/KEY_DOWN move the highlight
 *          (wrapping), KEY_OK tunes to that channel (LIVE), KEY_BACK --> MENU.
 *   SEARCH an on-screen keyboard: a 6x6 grid (vstb_search_grid) above a row of three wide keys
 *          (SPACE, DEL, CLEAR, each as wide as two grid columns). KEY_LEFT/RIGHT/UP/DOWN move
 *          the highlight, never wrapping: down from the grid's last row lands on the wide key
 *          under it, up from a wide key on the grid key above its left half. KEY_OK types the
 *          highlighted letter or space into the text field (VSTB_SEARCH_MAX characters at
 *          most), DEL removes the last one, CLEAR all. The titles of vstb_guide_titles that
 *          contain the text are listed as results. KEY_BACK --> MENU.
 * Every key the vstb's remote control has (vstb_keys) is accepted; keys with no effect on the
 * current screen change nothing. */
#ifndef VSTB_STATE_H
#define VSTB_STATE_H

#include <stddef.h>

typedef enum {
    VSTB_HOME,
    VSTB_MENU,
    VSTB_LIVE,
    VSTB_STANDBY,
    VSTB_LOADING,
    VSTB_GUIDE,
    VSTB_SEARCH
} vstb_screen;

#define VSTB_MENU_ITEMS    5
#define VSTB_FIRST_CHANNEL 1
#define VSTB_MENU_GUIDE    1 /* the menu items that open a screen of their own */
#define VSTB_MENU_SEARCH   2
#define VSTB_LOADING_TICKS 50 /* frames of the loading animation: 2 s at 25 fps */
#define VSTB_GUIDE_ROWS    6
#define VSTB_SEARCH_COLS   6
#define VSTB_SEARCH_ROWS   6
#define VSTB_SEARCH_WIDE   3 /* SPACE, DEL, CLEAR below the grid */
#define VSTB_SEARCH_KEYS   (VSTB_SEARCH_COLS * VSTB_SEARCH_ROWS + VSTB_SEARCH_WIDE)
#define VSTB_SEARCH_MAX    20

typedef struct vstb_state {
    vstb_screen screen;
    vstb_screen menu_from; /* where KEY_BACK leaves the menu to */
    int menu_index;        /* 0 .. VSTB_MENU_ITEMS-1 */
    int channel;           /* 1 .. 999 */
    int paused;
    int n_digits;     /* channel digits typed so far (0..2) */
    int digits;       /* their value */
    int loading_tick; /* frames of the loading animation shown so far */
    int guide_index;  /* the highlighted row of the guide, 0 .. VSTB_GUIDE_ROWS-1 */
    int search_key;   /* the highlighted key: row * VSTB_SEARCH_COLS + column, then the wide
                         keys from VSTB_SEARCH_COLS * VSTB_SEARCH_ROWS */
    char search_text[VSTB_SEARCH_MAX + 1]; /* typed so far; zero-filled beyond */
} vstb_state;

/* The names of every key of the vstb's remote control, NULL-terminated. */
extern const char *const vstb_keys[];

/* The labels of the menu items. */
extern const char *const vstb_menu_items[VSTB_MENU_ITEMS];

/* The programme on channel i + 1, as the guide and the search results show it. */
extern const char *const vstb_guide_titles[VSTB_GUIDE_ROWS];

/* The search keyboard's grid, a row per string; and the labels of its wide keys. */
extern const char *const vstb_search_grid[VSTB_SEARCH_ROWS];
extern const char *const vstb_search_wide[VSTB_SEARCH_WIDE];

/* The state at power-on: the home screen, channel 1. */
void vstb_state_init(vstb_state *s);

/* Apply one key press. Returns 1 when the key is one of vstb_keys (whether or not it changed
 * anything), 0 for an unknown key (s unchanged). */
int vstb_state_press(vstb_state *s, const char *key);

/* 1 when key is one of vstb_keys. */
int vstb_key_known(const char *key);

/* 1 while the picture changes by itself (the loading animation): call vstb_state_tick once
 * per frame then. */
int vstb_state_animating(const vstb_state *s);

/* One frame of time passes. Returns 1 when that changed the state. */
int vstb_state_tick(vstb_state *s);

#endif
