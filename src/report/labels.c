/*
 * labels.c — the label table: English key, English display name, Chinese display name.
 * Keys are the values written to profiles; the report and summaries display names.
 */
#include "report/labels.h"

#include <string.h>

typedef struct label_row {
    const char *key, *en, *zh;
} label_row;

static const label_row rows[] = {
    /* tiers */
    {"T1", "T1 top 5%", "T1 头部5%"},
    {"T2", "T2 next 15%", "T2 次高15%"},
    {"T3", "T3 middle 30%", "T3 中间30%"},
    {"T4", "T4 lower 30%", "T4 中低30%"},
    {"T5", "T5 bottom 20%", "T5 底部20%"},
    /* RFM segments */
    {"champions", "Champions", "冠军客户"},
    {"loyal_customers", "Loyal customers", "忠诚客户"},
    {"potential_loyalist", "Potential loyalists", "潜力客户"},
    {"new_customers", "New customers", "新客户"},
    {"promising", "Promising", "有前景客户"},
    {"need_attention", "Need attention", "需要关注"},
    {"about_to_sleep", "About to sleep", "即将沉睡"},
    {"at_risk", "At risk", "有流失风险"},
    {"cant_lose_them", "Can't lose them", "不能失去"},
    {"hibernating", "Hibernating", "休眠客户"},
    {"lost", "Lost", "已流失"},
    {"prospect", "Prospects (no order)", "潜在客户(未下单)"},
    /* the eight classic RFM classes */
    {"important_value", "Important value", "重要价值"},
    {"important_develop", "Important to develop", "重要发展"},
    {"important_keep", "Important to keep", "重要保持"},
    {"important_retain", "Important to win back", "重要挽留"},
    {"general_value", "General value", "一般价值"},
    {"general_develop", "General to develop", "一般发展"},
    {"general_keep", "General to keep", "一般保持"},
    {"general_retain", "General to win back", "一般挽留"},
    /* lifecycle */
    {"new", "New", "新客期"},
    {"growing", "Growing", "成长期"},
    {"mature", "Mature", "成熟期"},
    {"silent", "Silent", "沉默期"},
    {"churned", "Churned", "流失期"},
    /* behaviour types */
    {"price_sensitive", "Price sensitive", "价格敏感型"},
    {"brand_loyal", "Brand loyal", "品牌忠诚型"},
    {"decision_driven", "Decision driven", "理性决策型"},
    {"other", "Other", "其他"},
    /* levels */
    {"high", "High", "高"},
    {"medium", "Medium", "中"},
    {"low", "Low", "低"},
    {"core", "Core (top 10%)", "核心用户(前10%)"},
    {"normal", "Normal (middle 80%)", "普通用户(中间80%)"},
    {"browse", "Browsers (bottom 10%)", "浏览用户(后10%)"},
    /* words used by summaries and the report */
    {"persons", "Persons", "人数"},
    {"buyers", "Buyers", "购买用户"},
    {"orders", "Orders", "订单数"},
    {"revenue", "Revenue", "营收"},
    {"tier", "Tier", "层级"},
    {"segment", "Segment", "分群"},
    {"person_share", "Share of persons", "人数占比"},
    {"revenue_share", "Share of revenue", "营收占比"},
    {"data_quality", "Data quality", "数据质量"},
    {"as_of", "As of", "截至"},
};

bool st_lang_zh(const char *lang)
{
    return lang && (lang[0] == 'z' || lang[0] == 'Z') && (lang[1] == 'h' || lang[1] == 'H');
}

const char *st_label(const char *key, const char *lang)
{
    if (!key) return "";
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (!strcmp(rows[i].key, key)) return st_lang_zh(lang) ? rows[i].zh : rows[i].en;
    return key;
}
