/*
 * orders.c — parsing order rows. One row per order or per order line; rows of one person
 * sharing an order id form one order. amount = quantity × unit_price when the amount column
 * is absent or empty. Refunded/cancelled status or refund flag: the row contributes nothing.
 * Order ids starting with orders.cancel_prefix are cancellations (amount forced negative).
 */
#include "core/config.h"
#include "ingest/load.h"

enum {
    F_USER,
    F_ORDER,
    F_TS,
    F_AMOUNT,
    F_QTY,
    F_PRICE,
    F_CATEGORY,
    F_BRAND,
    F_CHANNEL,
    F_PAYMENT,
    F_COUPON,
    F_DISCOUNT,
    F_STATUS,
    F_REFUND,
    F__COUNT
};

static const st_field_spec fields[F__COUNT] = {
    [F_USER] = {"user_id", ST_CFG_ORDERS_COL_USER_ID, true},
    [F_ORDER] = {"order_id", ST_CFG_ORDERS_COL_ORDER_ID, false},
    [F_TS] = {"order_ts", ST_CFG_ORDERS_COL_TS, true},
    [F_AMOUNT] = {"amount", ST_CFG_ORDERS_COL_AMOUNT, false},
    [F_QTY] = {"quantity", ST_CFG_ORDERS_COL_QUANTITY, false},
    [F_PRICE] = {"unit_price", ST_CFG_ORDERS_COL_UNIT_PRICE, false},
    [F_CATEGORY] = {"category", ST_CFG_ORDERS_COL_CATEGORY, false},
    [F_BRAND] = {"brand", ST_CFG_ORDERS_COL_BRAND, false},
    [F_CHANNEL] = {"channel", ST_CFG_ORDERS_COL_CHANNEL, false},
    [F_PAYMENT] = {"payment_method", ST_CFG_ORDERS_COL_PAYMENT, false},
    [F_COUPON] = {"coupon_used", ST_CFG_ORDERS_COL_COUPON, false},
    [F_DISCOUNT] = {"discount", ST_CFG_ORDERS_COL_DISCOUNT, false},
    [F_STATUS] = {"status", ST_CFG_ORDERS_COL_STATUS, false},
    [F_REFUND] = {"refund", ST_CFG_ORDERS_COL_REFUND, false},
};

/* Chunk records are dataset rows with worker-local key and dictionary ids. */
typedef st_order_row order_rec;

static uint32_t col1(const st_worker *w, int canon)
{
    return (uint32_t)w->load->col[canon] + 1;
}

/* Exact amount in micros from the amount column or quantity × unit price; the three fields'
 * fingerprint terms are added to *fp (by value where they parse: 10 and 10.00 are the same
 * price). 1 = parsed, 0 = row rejected, -1 = out of memory. */
static int row_amount(st_worker *w, const st_record *rec, uint64_t *fp, int64_t *amount)
{
    bool rounded = false;
    st_sv a = st_load_field(w, rec, F_AMOUNT);
    st_sv q = st_load_field(w, rec, F_QTY), pr = st_load_field(w, rec, F_PRICE);
    if (a.len) {
        if (!st_sv_to_micros(a, amount, &rounded))
            return st_load_reject(w, rec, col1(w, F_AMOUNT), ST_REASON_BAD_AMOUNT,
                                  "amount '%.*s' is not a number", (int)ST_MIN(a.len, 64), a.ptr)
                       ? 0
                       : -1;
        /* quantity and unit price are informative here, but duplicates compare them too */
        int64_t v;
        *fp += st_fp_value(w, F_AMOUNT, *amount);
        *fp += q.len && st_sv_to_micros(q, &v, NULL) ? st_fp_value(w, F_QTY, v)
                                                     : st_fp_text(w, F_QTY, q);
        *fp += pr.len && st_sv_to_micros(pr, &v, NULL) ? st_fp_value(w, F_PRICE, v)
                                                       : st_fp_text(w, F_PRICE, pr);
    } else {
        if (!q.len || !pr.len)
            return st_load_reject(w, rec, st_load_has(w, F_AMOUNT) ? col1(w, F_AMOUNT) : 0,
                                  ST_REASON_MISSING_AMOUNT, NULL)
                       ? 0
                       : -1;
        int64_t qm, pm;
        bool r1 = false, r2 = false;
        if (!st_sv_to_micros(q, &qm, &r1))
            return st_load_reject(w, rec, col1(w, F_QTY), ST_REASON_BAD_QUANTITY,
                                  "quantity '%.*s' is not a number", (int)ST_MIN(q.len, 64), q.ptr)
                       ? 0
                       : -1;
        if (!st_sv_to_micros(pr, &pm, &r2))
            return st_load_reject(w, rec, col1(w, F_PRICE), ST_REASON_BAD_UNIT_PRICE,
                                  "unit price '%.*s' is not a number", (int)ST_MIN(pr.len, 64),
                                  pr.ptr)
                       ? 0
                       : -1;
        __int128 prod = (__int128)qm * pm;
        __int128 half = prod >= 0 ? 500000 : -500000;
        __int128 v = (prod + half) / 1000000;
        if (v > INT64_MAX / 4 || v < INT64_MIN / 4)
            return st_load_reject(w, rec, col1(w, F_QTY), ST_REASON_BAD_AMOUNT,
                                  "quantity x unit price overflows")
                       ? 0
                       : -1;
        rounded = r1 || r2 || (prod % 1000000) != 0;
        *amount = (int64_t)v;
        *fp += st_fp_text(w, F_AMOUNT, a) + st_fp_value(w, F_QTY, qm) + st_fp_value(w, F_PRICE, pm);
    }
    if (rounded) st_load_repair(w, ST_REASON_AMOUNT_ROUNDED);
    return 1;
}

static bool is_refund_status(const st_load *ld, st_sv status)
{
    /* most rows' status ("paid") has a length no refund status has: no list walk */
    if (!(ld->refund_lengths >> ST_MIN(status.len, (size_t)63) & 1)) return false;
    for (int i = 0; i < ld->nrefund_status; i++) /* the length first: no call for most */
        if (status.len == ld->refund_status[i].len && st_sv_eq_nocase(status, ld->refund_status[i]))
            return true;
    return false;
}

/* The day/flags bit-fields, category and brand go out in one 8-byte store. Assigning the
 * bit-fields in place reads their word first; when that word is the first of a fresh page of
 * the row table, the read maps the zero page and the store then takes a second,
 * copy-on-write fault whose TLB flush interrupts the other core (a fifth of the table's
 * pages; 5 % of the 10M-row run). Built in a register, not copied from a stack row, which
 * stalls store forwarding. */
#define ORDER_TAIL (offsetof(st_order_row, line) + sizeof(uint32_t))
_Static_assert(offsetof(st_order_row, category) == ORDER_TAIL + 4 &&
                   sizeof(st_order_row) == ORDER_TAIL + 8,
               "day/flags, category and brand are the row's last 8 bytes");

static inline void store_tail(st_order_row *r, int32_t day, uint8_t flags, uint16_t cat,
                              uint16_t brand)
{
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* GCC and Clang on little-endian targets allocate bit-fields from the low bits */
    uint64_t word = ((uint32_t)day & 0xffffffu) | (uint64_t)flags << 24 | (uint64_t)cat << 32 |
                    (uint64_t)brand << 48;
#else
    st_order_row t;
    t.day = day;
    t.flags = flags;
    t.category = cat;
    t.brand = brand;
    uint64_t word;
    memcpy(&word, (const char *)&t + ORDER_TAIL, sizeof word);
#endif
    memcpy((char *)r + ORDER_TAIL, &word, sizeof word);
}

static bool order_row(st_worker *w, const st_record *rec)
{
    const st_load *ld = w->load;
    uint64_t fp = 0; /* this row's fingerprint terms (see fp_own in st_orders_spec) */

    st_sv user = st_load_field(w, rec, F_USER);
    if (user.len == 0)
        return st_load_reject(w, rec, col1(w, F_USER), ST_REASON_MISSING_USER_ID, NULL);
    st_key_lookup user_key;
    st_load_key_begin(w, user, &user_key);
    st_sv order_id = st_load_field(w, rec, F_ORDER);
    if (st_load_has(w, F_ORDER) && order_id.len == 0)
        return st_load_reject(w, rec, col1(w, F_ORDER), ST_REASON_MISSING_ORDER_ID, NULL);
    int64_t ts;
    bool present;
    if (!st_load_ts(w, rec, F_TS, true, &ts, &present)) return true;
    fp += st_fp_value(w, F_TS, ts);
    int64_t amount;
    int ar = row_amount(w, rec, &fp, &amount);
    if (ar <= 0) return ar == 0;

    uint8_t flags = 0;
    st_sv coupon = st_load_field(w, rec, F_COUPON);
    if (coupon.len) {
        bool c;
        if (!st_sv_to_bool(coupon, &c))
            return st_load_reject(w, rec, col1(w, F_COUPON), ST_REASON_BAD_FLAG,
                                  "coupon_used '%.*s' is not a flag", (int)ST_MIN(coupon.len, 32),
                                  coupon.ptr);
        if (c) flags |= ST_ORDER_COUPON;
        fp += st_fp_value(w, F_COUPON, c);
    } else {
        fp += st_fp_text(w, F_COUPON, coupon);
    }
    st_sv discount = st_load_field(w, rec, F_DISCOUNT);
    if (discount.len) {
        int64_t d;
        if (!st_sv_to_micros(discount, &d, NULL))
            return st_load_reject(w, rec, col1(w, F_DISCOUNT), ST_REASON_BAD_NUMBER,
                                  "discount '%.*s' is not a number", (int)ST_MIN(discount.len, 32),
                                  discount.ptr);
        if (d > 0) flags |= ST_ORDER_COUPON;
        fp += st_fp_value(w, F_DISCOUNT, d);
    } else {
        fp += st_fp_text(w, F_DISCOUNT, discount);
    }
    st_sv refund = st_load_field(w, rec, F_REFUND);
    if (refund.len) {
        bool r;
        if (!st_sv_to_bool(refund, &r))
            return st_load_reject(w, rec, col1(w, F_REFUND), ST_REASON_BAD_FLAG,
                                  "refund '%.*s' is not a flag", (int)ST_MIN(refund.len, 32),
                                  refund.ptr);
        if (r) flags |= ST_ORDER_REFUNDED;
        fp += st_fp_value(w, F_REFUND, r);
    } else {
        fp += st_fp_text(w, F_REFUND, refund);
    }
    st_sv status = st_load_field(w, rec, F_STATUS);
    if (status.len && is_refund_status(ld, status)) flags |= ST_ORDER_REFUNDED;
    fp += st_fp_text(w, F_STATUS, status);
    if (ld->cancel_prefix.len && order_id.len >= ld->cancel_prefix.len &&
        memcmp(order_id.ptr, ld->cancel_prefix.ptr, ld->cancel_prefix.len) == 0) {
        flags |= ST_ORDER_CANCEL;
        if (amount > 0) {
            amount = -amount;
            st_load_repair(w, ST_REASON_CANCEL_SIGN);
        }
    }

    uint32_t key = st_load_key_end(w, &user_key, rec->line);
    st_sv category = st_load_field(w, rec, F_CATEGORY), brand_name = st_load_field(w, rec, F_BRAND);
    uint16_t cat = st_load_dict(w, ST_DICT_CATEGORY, category);
    uint16_t brand = st_load_dict(w, ST_DICT_BRAND, brand_name);
    fp += st_fp_text(w, F_CATEGORY, category) + st_fp_text(w, F_BRAND, brand_name);
    order_rec *r = st_load_record(w);
    if (key == ST_INTERN_NONE || cat == UINT16_MAX || brand == UINT16_MAX || !r) return false;
    /* without an order id column every row is its own order; with one, the fingerprint takes
     * the order id's hash as a value instead of hashing its text a second time */
    uint64_t order;
    if (st_load_has(w, F_ORDER)) {
        order = st_hash64(order_id.ptr, order_id.len);
        fp += st_fp_value(w, F_ORDER, (int64_t)order);
    } else {
        order = st_hash_mix(0x6f72646572ULL, rec->line);
    }
    r->order = order;
    r->fp = st_load_fingerprint(w, rec, fp, NULL, NULL, user_key.hash);
    r->amount = (flags & ST_ORDER_REFUNDED) ? 0 : amount;
    r->key = key;
    r->line = rec->line > UINT32_MAX ? UINT32_MAX : (uint32_t)rec->line;
    store_tail(r, st_local_day(ts), flags, cat, brand);
    return true;
}

static st_vmrows *order_table(st_dataset *ds)
{
    return &ds->orders.vm;
}

static void order_remap(void *rows, size_t begin, size_t end, const uint32_t *key_map,
                        uint16_t *const dict_map[5])
{
    st_order_row *r = rows;
    for (size_t i = begin; i < end; i++) {
        r[i].key = key_map[r[i].key];
        r[i].category = dict_map[ST_DICT_CATEGORY][r[i].category];
        r[i].brand = dict_map[ST_DICT_BRAND][r[i].brand];
    }
}

const st_input_spec st_orders_spec = {
    ST_IN_ORDERS,
    fields,
    F__COUNT,
    sizeof(order_rec),
    ST_CFG_ORDERS_FORMAT,
    ST_CFG_ORDERS_DELIMITER,
    ST_CFG_ORDERS_TS_FORMAT,
    order_row,
    NULL,
    NULL,
    order_table,
    order_remap,
    offsetof(st_order_row, key),
    /* every field's term but the person id's, channel's and payment method's (order_row) */
    ((1u << F__COUNT) - 1) & ~(1u << F_USER | 1u << F_CHANNEL | 1u << F_PAYMENT),
};
