/*
 * dummy_set.c - choose the dummy hash an unknown login name is checked
 * against (see dummy_set.h).
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "dummy_set.h"

void dummy_set_init(dummy_set_t *set, uint8_t const key[DUMMY_SET_KEY_LEN])
{
	memset(set, 0, sizeof(*set));
	memcpy(set->key, key, DUMMY_SET_KEY_LEN);
}

int dummy_set_add(dummy_set_t *set, char const *hash, uint64_t weight)
{
	size_t len;

	if (!set || !hash || weight == 0 || set->count >= DUMMY_SET_MAX) return -1;
	if (set->total + weight < set->total) return -1;
	len = strnlen(hash, PASSWORD_HASH_MAX + 1);
	if (len == 0 || len > PASSWORD_HASH_MAX) return -1;
	memcpy(set->entry[set->count].hash, hash, len + 1);
	set->entry[set->count].weight = weight;
	set->count++;
	set->total += weight;
	return 0;
}

char const *dummy_set_pick(dummy_set_t const *set, uint8_t const *login, size_t login_len)
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	uint64_t point = 0;
	size_t i;

	if (!set || set->count == 0 || set->total == 0) return NULL;
	if (set->count == 1) return set->entry[0].hash;
	if (!HMAC(EVP_sha256(), set->key, DUMMY_SET_KEY_LEN, login_len ? login : (uint8_t const *)"", login_len,
		  mac, &mac_len) || mac_len < 8) {
		ERR_clear_error();
		return set->entry[0].hash;	/* the most common profile */
	}
	for (i = 0; i < 8; i++) point = (point << 8) | mac[i];
	OPENSSL_cleanse(mac, sizeof(mac));
	point %= set->total;	/* bias below 2^-40 for any realistic number of users */
	for (i = 0; i < set->count; i++) {
		if (point < set->entry[i].weight) return set->entry[i].hash;
		point -= set->entry[i].weight;
	}
	return set->entry[set->count - 1].hash;
}
