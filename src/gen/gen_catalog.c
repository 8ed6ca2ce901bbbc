/*
 * gen_catalog.c — the fixed vocabularies of the synthetic shop: product categories with
 * their popularity, brands (each selling one category), search keywords per category
 * (mixed Chinese and English, as real search logs are), acquisition channels with their
 * cost and quality, sales channels and payment methods. Owned by src/gen/.
 */
#include "gen/gen_int.h"

const char *const gen_category_names[GEN_N_CATEGORIES] = {
    "apparel", "beauty", "electronics", "home", "food", "baby", "sports", "books"};
const double gen_category_weights[GEN_N_CATEGORIES] = {24, 16, 12, 14, 14, 7, 8, 5};

/* Brand b sells category b % 8, so apparel..home get four brands and the rest three. */
const char *const gen_brand_names[GEN_N_BRANDS] = {
    "Aurora", "Blossom", "Circuit", "Dwell",  "Harvest", "Sprout", "Stride", "Quill",
    "Linen",  "Velvet",  "Volt",    "Nest",   "Orchard", "Cradle", "Summit", "Folio",
    "Thread", "Glow",    "Pixel",   "Hearth", "Pantry",  "Bloom",  "Pace",   "Margin",
    "Weave",  "Petal",   "Nimbus",  "Haven",  "Grove",   "Lullaby"};

const char *const gen_keywords[GEN_N_CATEGORIES * GEN_KEYWORDS_PER_CAT] = {
    "连衣裙",   "t-shirt",   "jeans",      "羽绒服",     "sneakers",     "coat",
    "口红",     "serum",     "sunscreen",  "面膜",       "perfume",      "toner",
    "earbuds",  "手机壳",    "charger",    "smartwatch", "蓝牙音箱",     "tablet",
    "枕头",     "storage box", "desk lamp", "towel",     "四件套",       "mug",
    "coffee",   "坚果",      "tea",        "snacks",     "牛奶",         "chocolate",
    "diapers",  "奶粉",      "stroller",   "baby wipes", "玩具",         "feeding bottle",
    "yoga mat", "跑步鞋",    "dumbbell",   "backpack",   "camping tent", "羽毛球拍",
    "novel",    "绘本",      "history",    "textbook",   "comics",       "cookbook"};

const char *const gen_acq_channel_names[GEN_N_ACQ_CHANNELS] = {"organic", "search_ads", "social",
                                                               "referral", "offline"};
const double gen_acq_channel_weights[GEN_N_ACQ_CHANNELS] = {35, 20, 20, 10, 15};
/* Referred and organic persons buy more often than ones bought through ads: this is what
 * makes LTV/CAC differ by channel. */
const double gen_acq_channel_rate[GEN_N_ACQ_CHANNELS] = {1.15, 0.9, 0.75, 1.35, 1.0};
const double gen_acq_channel_cac[GEN_N_ACQ_CHANNELS] = {2.0, 45.0, 30.0, 15.0, 60.0};

const char *const gen_channel_names[GEN_N_CHANNELS] = {"app", "web", "mini_program", "store"};
const double gen_channel_weights[GEN_N_CHANNELS] = {45, 20, 25, 10};
const char *const gen_payment_names[GEN_N_PAYMENTS] = {"alipay", "wechat_pay", "card", "cod"};
const double gen_payment_weights[GEN_N_PAYMENTS] = {40, 40, 15, 5};

unsigned gen_brand_of_category(const gsl_rng *rng, unsigned cat)
{
    /* brands of cat are cat, cat+8, cat+16 (, cat+24); the first one leads the market */
    static const double popularity[4] = {50, 25, 15, 10};
    unsigned n = cat + 24 < GEN_N_BRANDS ? 4 : 3;
    return cat + 8 * gen_pick(rng, popularity, n);
}
