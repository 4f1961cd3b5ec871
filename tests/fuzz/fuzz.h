/*
 * The libFuzzer entry point every target in tests/fuzz/ defines. `make fuzz`
 * links a target with clang's libFuzzer; `make test` links it with
 * replay.c, which feeds it each file of the target's corpus. A target
 * returns 0 and calls abort() when an invariant breaks, so both drivers
 * see a crash.
 */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
