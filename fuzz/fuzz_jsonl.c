/*
 * fuzz_jsonl.c — libFuzzer target for the JSON Lines reader: the CSV target's harness
 * (one-block reference against a tiny-block, two-thread read) with the JSONL format and the
 * keys id, amount, ts, tags, a. Included rather than copied so the two cannot drift; each
 * fuzz_*.c is its own executable, so the definitions do not clash.
 */
#define FUZZ_JSONL 1
#include "fuzz_csv.c"
