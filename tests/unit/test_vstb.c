#include "sf_lircd.h"
#include "test.h"
#include "vstb_render.h"
#include "vstb_state.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static vstb_state after(const char *const *keys)
{
    vstb_state s;
    vstb_state_init(&s);
    for (; *keys; keys++)
        vstb_state_press(&s, *keys);
    return s;
}

static uint64_t picture_hash(const vstb_state *s)
{
    static uint8_t rgb[VSTB_WIDTH * VSTB_HEIGHT * 3];
    memset(rgb, 0x55, sizeof(rgb));
    vstb_render(s, rgb);
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < sizeof(rgb); i++)
        h = (h ^ rgb[i]) * 1099511628211ull;
    return h;
}

static void test_menu_opens_and_back_returns_home(void)
{
    const char *menu[] = {"KEY_MENU", NULL};
    vstb_state s = after(menu);
    CHECK(s.screen == VSTB_MENU && s.menu_index == 0);
    vstb_state_press(&s, "KEY_BACK");
    CHECK(s.screen == VSTB_HOME);
}

static void test_highlight_moves_and_wraps(void)
{
    const char *keys[] = {"KEY_MENU", "KEY_DOWN", "KEY_DOWN", NULL};
    vstb_state s = after(keys);
    CHECK(s.menu_index == 2);
    const char *up[] = {"KEY_MENU", "KEY_UP", NULL};
    s = after(up);
    CHECK(s.menu_index == VSTB_MENU_ITEMS - 1);
}

static void test_channels_change_by_keys_and_digits(void)
{
    const char *keys[] = {"KEY_TV", "KEY_CHANNELUP", "KEY_CHANNELUP", NULL};
    vstb_state s = after(keys);
    CHECK(s.screen == VSTB_LIVE && s.channel == 3);
    const char *down[] = {"KEY_TV", "KEY_CHANNELDOWN", NULL};
    s = after(down);
    CHECK(s.channel == 999);
    const char *digits[] = {"KEY_TV", "KEY_4", "KEY_2", NULL};
    s = after(digits);
    CHECK(s.channel == 1 && s.n_digits == 2);
    vstb_state_press(&s, "KEY_OK");
    CHECK(s.channel == 42 && s.n_digits == 0);
    const char *three[] = {"KEY_TV", "KEY_1", "KEY_2", "KEY_3", NULL};
    s = after(three);
    CHECK(s.channel == 123);
}

static void test_pause_and_play(void)
{
    const char *keys[] = {"KEY_TV", "KEY_PAUSE", NULL};
    vstb_state s = after(keys);
    CHECK(s.paused);
    vstb_state_press(&s, "KEY_PLAY");
    CHECK(!s.paused);
    vstb_state_press(&s, "KEY_PLAYPAUSE");
    CHECK(s.paused);
    vstb_state_press(&s, "KEY_CHANNELUP");
    CHECK(!s.paused);
}

static void test_unknown_keys_change_nothing(void)
{
    vstb_state s, before;
    vstb_state_init(&s);
    before = s;
    CHECK(vstb_state_press(&s, "KEY_TELEPORT") == 0);
    CHECK(!memcmp(&s, &before, sizeof(s)));
    CHECK(vstb_state_press(&s, "KEY_RED") == 1);
    CHECK(!memcmp(&s, &before, sizeof(s)));
}

static void test_same_state_same_pixels(void)
{
    const char *a[] = {"KEY_MENU", "KEY_DOWN", NULL};
    const char *b[] = {"KEY_TV", "KEY_MENU", "KEY_DOWN", "KEY_DOWN", "KEY_UP", NULL};
    vstb_state sa = after(a), sb = after(b);
    CHECK(picture_hash(&sa) == picture_hash(&sb));
    const char *home[] = {NULL};
    const char *back[] = {"KEY_MENU", "KEY_BACK", NULL};
    vstb_state h = after(home), hb = after(back);
    CHECK(picture_hash(&h) == picture_hash(&hb));
}

static void test_different_states_different_pixels(void)
{
    const char *const seqs[][5] = {
        {NULL},
        {"KEY_MENU", NULL},
        {"KEY_MENU", "KEY_DOWN", NULL},
        {"KEY_TV", NULL},
        {"KEY_TV", "KEY_CHANNELUP", NULL},
        {"KEY_TV", "KEY_PAUSE", NULL},
        {"KEY_TV", "KEY_4", NULL},
        {"KEY_POWER", NULL},
    };
    const size_t n = sizeof(seqs) / sizeof(seqs[0]);
    uint64_t h[sizeof(seqs) / sizeof(seqs[0])];
    for (size_t i = 0; i < n; i++) {
        vstb_state s = after(seqs[i]);
        h[i] = picture_hash(&s);
        for (size_t j = 0; j < i; j++)
            CHECK(h[i] != h[j]);
    }
}

/* The demo test pack's vstb.lircd.conf names exactly the vstb's keys. */
static void test_demo_remote_has_exactly_the_vstb_keys(void)
{
    FILE *f = fopen(SF_SOURCE_DIR "/demo/test-pack/config/remote-control/vstb.lircd.conf", "rb");
    CHECK(f != NULL);
    if (!f)
        return;
    char buf[16384];
    size_t len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    sf_lircd_conf *c = NULL;
    CHECK(sf_lircd_parse(buf, len, &c, NULL) == 0);
    const sf_lircd_remote *r = c ? sf_lircd_remote_find(c, "vstb") : NULL;
    CHECK(r != NULL);
    size_t n = 0;
    for (; vstb_keys[n]; n++)
        CHECK(r && sf_lircd_has_key(r, vstb_keys[n]));
    CHECK(r && r->n_keys == n);
    sf_lircd_free(c);
}

int main(void)
{
    RUN(test_menu_opens_and_back_returns_home);
    RUN(test_highlight_moves_and_wraps);
    RUN(test_channels_change_by_keys_and_digits);
    RUN(test_pause_and_play);
    RUN(test_unknown_keys_change_nothing);
    RUN(test_same_state_same_pixels);
    RUN(test_different_states_different_pixels);
    RUN(test_demo_remote_has_exactly_the_vstb_keys);
    return TEST_EXIT();
}
