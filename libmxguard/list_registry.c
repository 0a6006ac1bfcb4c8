/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <libknot/errcode.h>

#include "config_rules.h"
#include "list_registry.h"

typedef struct entry {
	struct entry *next;
	size_t refs;
	mx_name_list_t *list;
	size_t key_len;
	uint8_t key[];   // what the list was made of: see make_key()
} entry_t;

// Instances load and unload from knotd's main thread, but nothing promises it.
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry_t *entries;

static void append(uint8_t *key, size_t *len, const void *data, size_t size)
{
	if (key != NULL) {
		memcpy(key + *len, data, size);
	}
	*len += size;
}

// The names, each with its terminating zero, then the file's name and
// identity. Called with key NULL, it only counts the bytes.
static size_t make_key(uint8_t *key, const char *const *names, size_t count,
                       const char *file, const struct stat *st)
{
	size_t len = 0;
	for (size_t i = 0; i < count; i++) {
		append(key, &len, names[i], strlen(names[i]) + 1);
	}
	if (file != NULL) {
		append(key, &len, "\1", 1);
		append(key, &len, file, strlen(file) + 1);
		uint64_t id[] = {
			st->st_dev, st->st_ino, st->st_size,
			st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
			st->st_ctim.tv_sec, st->st_ctim.tv_nsec,
		};
		append(key, &len, id, sizeof(id));
	}
	return len;
}

static int load_private(const char *const *names, size_t count, const char *file,
                        mx_name_list_t **out, char *err, size_t err_len)
{
	mx_name_list_t *list = mx_name_list_new();
	if (list == NULL) {
		return KNOT_ENOMEM;
	}
	int ret = mx_conf_load_no_mail(list, names, count, file, err, err_len);
	if (ret != KNOT_EOK) {
		mx_name_list_free(list);
		return ret;
	}
	*out = list;
	return KNOT_EOK;
}

int mx_list_registry_acquire(const char *const *names, size_t count, const char *file,
                             const mx_name_list_t **out, char *err, size_t err_len)
{
	struct stat st = { 0 };
	if (file != NULL && (stat(file, &st) != 0 || !S_ISREG(st.st_mode))) {
		// Unidentifiable content (or an error the loader words): not shared.
		mx_name_list_t *list = NULL;
		int ret = load_private(names, count, file, &list, err, err_len);
		*out = list;
		return ret;
	}

	size_t key_len = make_key(NULL, names, count, file, &st);
	entry_t *fresh = malloc(sizeof(*fresh) + key_len);
	if (fresh == NULL) {
		return KNOT_ENOMEM;
	}
	fresh->key_len = key_len;
	make_key(fresh->key, names, count, file, &st);

	pthread_mutex_lock(&lock);
	for (entry_t *e = entries; e != NULL; e = e->next) {
		if (e->key_len == key_len && memcmp(e->key, fresh->key, key_len) == 0) {
			e->refs++;
			*out = e->list;
			pthread_mutex_unlock(&lock);
			free(fresh);
			return KNOT_EOK;
		}
	}
	// Loaded under the lock: a second instance alike waits for this one
	// instead of reading the file again.
	int ret = load_private(names, count, file, &fresh->list, err, err_len);
	if (ret != KNOT_EOK) {
		pthread_mutex_unlock(&lock);
		free(fresh);
		return ret;
	}
	fresh->refs = 1;
	fresh->next = entries;
	entries = fresh;
	*out = fresh->list;
	pthread_mutex_unlock(&lock);
	return KNOT_EOK;
}

void mx_list_registry_release(const mx_name_list_t *list)
{
	if (list == NULL) {
		return;
	}
	pthread_mutex_lock(&lock);
	for (entry_t **p = &entries; *p != NULL; p = &(*p)->next) {
		entry_t *e = *p;
		if (e->list != list) {
			continue;
		}
		if (--e->refs == 0) {
			*p = e->next;
			mx_name_list_free(e->list);
			free(e);
		}
		pthread_mutex_unlock(&lock);
		return;
	}
	pthread_mutex_unlock(&lock);
	// Not shared: the holder's own.
	mx_name_list_free((mx_name_list_t *)list);
}

size_t mx_list_registry_count(void)
{
	size_t n = 0;
	pthread_mutex_lock(&lock);
	for (entry_t *e = entries; e != NULL; e = e->next) {
		n++;
	}
	pthread_mutex_unlock(&lock);
	return n;
}
