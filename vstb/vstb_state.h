/* vstb_state.h - what the virtual set-top box shows, and how each key changes it. Pure: the
 * picture is a function of this state alone (vstb_render.h), so the same keys from power-on
 * always give the same pixels.
 *
 *   HOME   --KEY_MENU-->  MENU  (highlight on the first item; KEY_UP/KEY_DOWN move it, wrapping)
 *   MENU   --KEY_BACK-->  the screen the menu was opened from
 *   MENU   --KEY_OK on "Live TV"-->  LIVE
 *   any    --KEY_TV-->  LIVE;  --KEY_HOME-->  HOME;  --KEY_POWER-->  STANDBY (and back to HOME)
 *   HOME   --KEY_OK / KEY_CHANNELUP / KEY_CHANNELDOWN-->  LIVE
 *   LIVE   KEY_CHANNELUP/DOWN: channel +-1 (1..999, wrapping); KEY_0..KEY_9 type a channel
 *          number (it shows as typed; the third digit or KEY_OK tunes, KEY_BACK cancels);
 *          KEY_PAUSE pauses, KEY_PLAY resumes, KEY_PLAYPAUSE toggles; tuning resumes;
 *          KEY_BACK --> HOME.
 * Every key the vstb's remote control has (vstb_keys) is accepted; keys with no effect on the
 * current screen change nothing. */
#ifndef VSTB_STATE_H
#define VSTB_STATE_H

#include <stddef.h>

typedef enum { VSTB_HOME, VSTB_MENU, VSTB_LIVE, VSTB_STANDBY } vstb_screen;

#define VSTB_MENU_ITEMS    5
#define VSTB_FIRST_CHANNEL 1

typedef struct vstb_state {
    vstb_screen screen;
    vstb_screen menu_from; /* where KEY_BACK leaves the menu to */
    int menu_index;        /* 0 .. VSTB_MENU_ITEMS-1 */
    int channel;           /* 1 .. 999 */
    int paused;
    int n_digits; /* channel digits typed so far (0..2) */
    int digits;   /* their value */
} vstb_state;

/* The names of every key of the vstb's remote control, NULL-terminated. */
extern const char *const vstb_keys[];

/* The labels of the menu items. */
extern const char *const vstb_menu_items[VSTB_MENU_ITEMS];

/* The state at power-on: the home screen, channel 1. */
void vstb_state_init(vstb_state *s);

/* Apply one key press. Returns 1 when the key is one of vstb_keys (whether or not it changed
 * anything), 0 for an unknown key (s unchanged). */
int vstb_state_press(vstb_state *s, const char *key);

/* 1 when key is one of vstb_keys. */
int vstb_key_known(const char *key);

#endif
