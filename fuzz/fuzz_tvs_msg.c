/*
 * fuzz_tvs_msg.c: fuzz target for the TVS message codec and the role table
 * (src/wire/tvs_msg.h, src/wire/roles.h). Any bytes must either decode or be
 * refused with an error sentence; what decodes must frame to exactly its
 * length, re-encode to the same bytes, and survive every accessor.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/roles.h"
#include "wire/tvs_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static void exercise_device_name(const struct tvs_msg *m)
{
	char name[256];
	struct tvs_msg again;
	struct buf store;

	if (tvs_msg_get_device_name(m, name, sizeof name) != 0)
		return;
	check(strlen(name) + 1 == tvs_msg_find(m, TVS_TAG_DEVICE_NAME)->len); /* lead byte, no NUL */
	buf_init(&store);
	tvs_msg_init(&again, m->cmd, m->session_id);
	check(tvs_msg_add_device_name(&again, &store, name) == 0);
	check(again.elems[0].len == tvs_msg_find(m, TVS_TAG_DEVICE_NAME)->len);
	check(memcmp(again.elems[0].val, tvs_msg_find(m, TVS_TAG_DEVICE_NAME)->val,
		     again.elems[0].len) == 0);
	buf_free(&store);
}

static void exercise(const struct tvs_msg *m)
{
	uint8_t roles[16], u8;
	uint32_t ttl;
	size_t n;

	(void)tvs_cmd_name(m->cmd);
	for (size_t i = 0; i < m->nelems; i++)
		check(tvs_tag_name(m->elems[i].tag) != NULL);
	if (tvs_msg_get_u8(m, TVS_TAG_STATUS, &u8) == 0)
		(void)tvs_status_name(u8);
	if (tvs_msg_get_roles(m, roles, sizeof roles, &n) == 0) {
		check(n <= sizeof roles);
		for (size_t i = 0; i < n; i++) {
			const char *name = role_name(roles[i]);
			uint16_t id;

			if (name)
				check(role_from_name(name, &id) == 0 && id == roles[i]);
		}
	}
	(void)tvs_msg_get_u32(m, TVS_TAG_TTL, &ttl);
	exercise_device_name(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tvs_msg m;
	char err[ERRLEN] = "";
	size_t total = 0;
	int framed = tvs_frame_length(data, size, &total, err, sizeof err);
	struct buf b;

	err[0] = '\0';
	if (tvs_msg_decode(&m, data, size, err, sizeof err) != 0) {
		check(err[0] != '\0');
		return 0;
	}
	check(framed == 1 && total == size);
	buf_init(&b);
	check(tvs_msg_encode(&m, &b) == 0);
	check(b.len == size && memcmp(b.data, data, size) == 0);
	buf_free(&b);
	exercise(&m);
	return 0;
}
