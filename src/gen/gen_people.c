/*
 * gen_people.c — writes users.csv (one row per person: signup, demographics, acquisition
 * channel and cost, consent flags, NPS) and identities.csv (the identifiers of each person
 * and the links that identity resolution has to follow or refuse). Owned by src/gen/.
 *
 * users.csv:      user_id,signup_ts,gender,birth_year,region,acquisition_channel,cac,
 *                 consent_sms,consent_push,consent_email,consent_wecom,nps
 * identities.csv: user_id,id_type,id_value with id_type phone, email, device_id, openid or
 *                 unionid. Every person has 1–3 identifiers; app_<n> repeats u<n>'s phone
 *                 (and has a device of its own); a few shared family devices are each linked
 *                 to 21–40 persons. Identifier values are built from bijective mixes of
 *                 (seed, kind, person), so two persons never share one by accident.
 */
#include "gen/gen_int.h"

#include <math.h>

static const char *const region_names[] = {"Guangdong", "Zhejiang", "Jiangsu", "Shanghai",
                                           "Beijing",   "Shandong", "Sichuan", "Henan",
                                           "Hubei",     "Fujian",   "Hunan",   "Other"};
static const double region_weights[] = {14, 9, 9, 7, 6, 7, 6, 6, 5, 5, 5, 21};

static void put_flag(gen_out *o, const gsl_rng *rng, double p)
{
    gen_putc(o, ',');
    gen_putc(o, gsl_rng_uniform(rng) < p ? '1' : '0');
}

static void write_user(gen_run *run, gen_out *o, const gsl_rng *rng, const gsl_rng *dirt_rng, uint32_t i)
{
    static const double gender_weights[3] = {55, 40, 5};
    static const double mix[ST_GEN_DIRT__COUNT] = {50, 0, 50, 0, 0, 0};
    const gen_person *p = &run->persons[i];
    unsigned dirt = ST_GEN_DIRT__COUNT;
    if (run->opts->dirt > 0 && gsl_rng_uniform(dirt_rng) < run->opts->dirt) {
        dirt = gen_pick(dirt_rng, mix, ST_GEN_DIRT__COUNT);
        o->counts->dirt[dirt]++;
    }
    gen_row_begin(o);
    gen_putc(o, 'u');
    gen_put_u64(o, (uint64_t)i + 1);
    gen_putc(o, ',');
    if (dirt == ST_GEN_DIRT_BAD_DATE) {
        if (gsl_rng_uniform(dirt_rng) < 0.5) {
            GEN_PUT_LIT(o, "yesterday");
        } else {
            size_t at = o->len;
            gen_put_ts(o, p->acq_sec);
            memcpy(o->buf + at + 4, "-02-30", 6);
        }
    } else {
        gen_put_ts(o, p->acq_sec);
    }
    gen_putc(o, ',');
    unsigned gender = gen_pick(rng, gender_weights, 3);
    if (gender < 2) gen_putc(o, gender == 0 ? 'F' : 'M');
    gen_putc(o, ',');
    if (gsl_rng_uniform(rng) >= 0.07) {
        double year = 1992.0 + floor(gsl_ran_gaussian(rng, 8.0) + 0.5);
        gen_put_u64(o, (uint64_t)ST_MIN(ST_MAX(year, 1950.0), 2008.0));
    }
    gen_putc(o, ',');
    gen_put_str(o, region_names[gen_pick(rng, region_weights, ST_ARRAY_LEN(region_weights))]);
    gen_putc(o, ',');
    gen_put_str(o, gen_acq_channel_names[p->acq_channel]);
    gen_putc(o, ',');
    double cac = gsl_ran_lognormal(rng, log(gen_acq_channel_cac[p->acq_channel]), 0.35);
    gen_put_cents(o, llround(ST_MIN(cac, 10000.0) * 100.0));
    /* consent follows the channel a person uses: app users allow push, mini-program users
     * join the WeCom group */
    put_flag(o, rng, 0.62);
    put_flag(o, rng, p->channel_pref == 0 ? 0.55 : 0.35);
    put_flag(o, rng, 0.30);
    put_flag(o, rng, p->channel_pref == 2 ? 0.45 : 0.22);
    gen_putc(o, ',');
    /* satisfied repeat buyers answer the survey more often, and score higher */
    double answer = p->orders >= 3 ? 0.3 : 0.2;
    double mean = p->orders >= 3 ? 8.3 : p->orders > 0 ? 7.0 : 6.0;
    double score = floor(mean + gsl_ran_gaussian(rng, 2.0) + 0.5);
    if (gsl_rng_uniform(rng) < answer) gen_put_u64(o, (uint64_t)ST_MIN(ST_MAX(score, 0.0), 10.0));
    gen_row_end(o, dirt == ST_GEN_DIRT_DUPLICATE);
}

strata_status gen_write_users(gen_run *run)
{
    gen_out out;
    strata_status st = gen_out_open(run, &out, "users.csv",
                                    "user_id,signup_ts,gender,birth_year,region,acquisition_channel,cac,"
                                    "consent_sms,consent_push,consent_email,consent_wecom,nps",
                                    &run->report->users_csv);
    if (st != STRATA_OK) return st;
    gsl_rng rng, dirt_rng;
    bool ok = gen_rng_init(&rng, run->seed, GEN_STREAM_USERS) == STRATA_OK;
    ok = gen_rng_init(&dirt_rng, run->seed, GEN_STREAM_USERS_DIRT) == STRATA_OK && ok;
    for (uint32_t i = 0; i < run->n_persons && ok; i++) {
        write_user(run, &out, &rng, &dirt_rng, i);
        if ((i & 0xffff) == 0xffff) gen_progress(run, 0x8000);
    }
    gen_rng_clear(&rng);
    gen_rng_clear(&dirt_rng);
    if (!ok) {
        gen_out_discard(&out);
        return st_error(run->ctx, STRATA_ENOMEM, "gen: out of memory");
    }
    return gen_out_close(run, &out);
}

/* ---- identities ---- */

enum id_kind { ID_PHONE, ID_EMAIL, ID_DEVICE, ID_DEVICE2, ID_OPENID, ID_UNIONID, ID_APP_DEVICE, ID_SHARED };

/* Distinct (kind, n) give distinct values for one seed: gen_mix64 is a bijection. */
static uint64_t id_hash(const gen_run *run, unsigned kind, uint64_t n)
{
    return gen_mix64(gen_mix64(run->seed) + ((uint64_t)kind << 40) + n);
}

static void put_hex(gen_out *o, uint64_t v, unsigned digits)
{
    static const char hex[] = "0123456789abcdef";
    for (unsigned k = digits; k > 0; k--) gen_putc(o, hex[(v >> (4 * (k - 1))) & 15]);
}

static void put_user(gen_out *o, const char *prefix, uint32_t i)
{
    gen_put_str(o, prefix);
    gen_put_u64(o, (uint64_t)i + 1);
    gen_putc(o, ',');
}

static void put_phone(const gen_run *run, gen_out *o, uint32_t i)
{
    static const unsigned prefixes[] = {130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152,
                                        155, 157, 158, 159, 176, 177, 186, 187, 188, 189};
    uint64_t n = (uint64_t)i + 1;
    gen_put_u64(o, prefixes[id_hash(run, ID_PHONE, n) % ST_ARRAY_LEN(prefixes)]);
    /* n -> n * 48271 + c is a bijection modulo 10^8, so phones of distinct persons differ */
    uint64_t digits = (n * 48271u + gen_mix64(run->seed) % 100000000u) % 100000000u;
    char tmp[8];
    for (int k = 7; k >= 0; k--) {
        tmp[k] = (char)('0' + digits % 10);
        digits /= 10;
    }
    gen_put(o, tmp, 8);
}

/* A device id in UUID form from two 64-bit values. */
static void put_device(gen_out *o, uint64_t a, uint64_t b)
{
    put_hex(o, a >> 32, 8);
    gen_putc(o, '-');
    put_hex(o, a >> 16, 4);
    gen_putc(o, '-');
    put_hex(o, a, 4);
    gen_putc(o, '-');
    put_hex(o, b >> 48, 4);
    gen_putc(o, '-');
    put_hex(o, b, 12);
}

static void write_person_ids(gen_run *run, gen_out *o, const gsl_rng *rng, uint32_t i)
{
    const gen_person *p = &run->persons[i];
    uint64_t n = (uint64_t)i + 1;
    bool phone = gsl_rng_uniform(rng) < 0.85, device = gsl_rng_uniform(rng) < 0.55;
    bool openid = gsl_rng_uniform(rng) < 0.40, email = gsl_rng_uniform(rng) < 0.35;
    bool unionid = gsl_rng_uniform(rng) < 0.25;
    if (p->flags & GEN_P_SECOND_ID) phone = true; /* the identifier both ids share */
    if (!phone && !device && !openid && !email && !unionid) phone = true;
    unsigned left = 3;
    if (phone && left) {
        left--;
        gen_row_begin(o);
        put_user(o, "u", i);
        GEN_PUT_LIT(o, "phone,");
        put_phone(run, o, i);
        gen_row_end(o, false);
    }
    if (device && left) {
        left--;
        gen_row_begin(o);
        put_user(o, "u", i);
        GEN_PUT_LIT(o, "device_id,");
        put_device(o, id_hash(run, ID_DEVICE, n), id_hash(run, ID_DEVICE2, n));
        gen_row_end(o, false);
    }
    if (openid && left) {
        left--;
        gen_row_begin(o);
        put_user(o, "u", i);
        GEN_PUT_LIT(o, "openid,oWx");
        put_hex(o, id_hash(run, ID_OPENID, n), 16);
        put_hex(o, id_hash(run, ID_OPENID, n + (1ull << 36)), 9);
        gen_row_end(o, false);
    }
    if (email && left) {
        static const char *const domains[] = {"@example.com", "@example.cn", "@example.net"};
        left--;
        uint64_t h = id_hash(run, ID_EMAIL, n);
        gen_row_begin(o);
        put_user(o, "u", i);
        GEN_PUT_LIT(o, "email,m");
        put_hex(o, h, 16);
        gen_put_str(o, domains[h % 3]);
        gen_row_end(o, false);
    }
    if (unionid && left) {
        left--;
        gen_row_begin(o);
        put_user(o, "u", i);
        GEN_PUT_LIT(o, "unionid,oUn");
        put_hex(o, id_hash(run, ID_UNIONID, n), 16);
        put_hex(o, id_hash(run, ID_UNIONID, n + (1ull << 36)), 9);
        gen_row_end(o, false);
    }
    if (p->flags & GEN_P_SECOND_ID) {
        gen_row_begin(o);
        put_user(o, "app_", i);
        GEN_PUT_LIT(o, "phone,");
        put_phone(run, o, i);
        gen_row_end(o, false);
        gen_row_begin(o);
        put_user(o, "app_", i);
        GEN_PUT_LIT(o, "device_id,");
        put_device(o, id_hash(run, ID_APP_DEVICE, n), id_hash(run, ID_APP_DEVICE, n + (1ull << 36)));
        gen_row_end(o, false);
    }
}

/* A few family tablets and shop kiosks logged into by many persons. */
static void write_shared_devices(gen_run *run, gen_out *o, const gsl_rng *rng)
{
    if (run->n_persons < 25) return; /* "more than 20 persons" needs enough persons */
    unsigned devices = run->n_persons < 100 ? 1 : (unsigned)ST_MIN(8u, 3u + run->n_persons / 200000u);
    for (unsigned d = 0; d < devices; d++) {
        unsigned want = 21 + (unsigned)gsl_rng_uniform_int(rng, 20);
        want = ST_MIN(want, run->n_persons); /* not inside ST_MIN: it evaluates twice */
        uint32_t chosen[40];
        unsigned n = 0;
        while (n < want) {
            uint32_t i = (uint32_t)gsl_rng_uniform_int(rng, run->n_persons);
            bool dup = false;
            for (unsigned k = 0; k < n; k++) dup |= chosen[k] == i;
            if (dup) continue;
            chosen[n++] = i;
            gen_row_begin(o);
            put_user(o, "u", i);
            GEN_PUT_LIT(o, "device_id,");
            put_device(o, id_hash(run, ID_SHARED, d), id_hash(run, ID_SHARED, d + (1ull << 36)));
            gen_row_end(o, false);
        }
        run->report->shared_identifiers++;
    }
}

strata_status gen_write_identities(gen_run *run)
{
    gen_out out;
    strata_status st = gen_out_open(run, &out, "identities.csv", "user_id,id_type,id_value",
                                    &run->report->identities_csv);
    if (st != STRATA_OK) return st;
    gsl_rng rng;
    if (gen_rng_init(&rng, run->seed, GEN_STREAM_IDENTITIES) != STRATA_OK) {
        gen_out_discard(&out);
        return st_error(run->ctx, STRATA_ENOMEM, "gen: out of memory");
    }
    for (uint32_t i = 0; i < run->n_persons; i++) {
        write_person_ids(run, &out, &rng, i);
        if ((i & 0xffff) == 0xffff) gen_progress(run, 0x8000);
    }
    write_shared_devices(run, &out, &rng);
    gen_rng_clear(&rng);
    return gen_out_close(run, &out);
}
