#include "util/siphash.h"

#include "test.h"

/* Vectors from the SipHash paper's reference implementation (vectors.h):
 * key 00 01 .. 0f, message 00 01 .. (len-1). */
static void test_reference_vectors(void)
{
    uint8_t key_bytes[16], msg[64];
    for (int i = 0; i < 16; i++) key_bytes[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++) msg[i] = (uint8_t)i;
    uint64_t key[2] = {0, 0};
    for (int i = 7; i >= 0; i--) key[0] = key[0] << 8 | key_bytes[i];
    for (int i = 15; i >= 8; i--) key[1] = key[1] << 8 | key_bytes[i];
    CHECK_U64(siphash24(key, msg, 0), 0x726fdb47dd0e0e31ULL);
    CHECK_U64(siphash24(key, msg, 1), 0x74f839c593dc67fdULL);
    CHECK_U64(siphash24(key, msg, 8), 0x93f5f5799a932462ULL);
    CHECK_U64(siphash24(key, msg, 15), 0xa129ca6149be45e5ULL);
    CHECK_U64(siphash24(key, msg, 63), 0x958a324ceb064572ULL);
}

TEST_MAIN("siphash", TEST_CASE(test_reference_vectors))
