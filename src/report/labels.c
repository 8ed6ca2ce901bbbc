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
    /* report: counts, averages and distribution names (added by the report) */
    {"prospects", "Prospects", "潜在客户"},
    {"order_rows", "Order rows", "订单行数"},
    {"events", "Events", "行为事件数"},
    {"class", "Class", "类别"},
    {"r_score", "R score (recency)", "R分(最近消费)"},
    {"f_score", "F score (frequency)", "F分(消费频次)"},
    {"m_score", "M score (monetary)", "M分(消费金额)"},
    {"value_score", "Value score", "价值分"},
    {"avg_recency_days", "Avg. recency (days)", "平均最近消费间隔(天)"},
    {"avg_frequency", "Avg. frequency", "平均购买次数"},
    {"avg_monetary", "Avg. monetary", "平均消费金额"},
    {"lifecycle", "Lifecycle stage", "生命周期阶段"},
    {"behavior_type", "Behaviour type", "行为类型"},
    {"interaction_level", "Interaction level", "互动等级"},
    {"core_level", "Core level (181 rule)", "核心等级(181法则)"},
    /* report: data-quality counters */
    {"rows_read", "Rows read", "读取行数"},
    {"rows_loaded", "Rows loaded", "载入行数"},
    {"rejected", "Rejected", "拒收行数"},
    {"duplicates", "Duplicates", "重复行数"},
    {"repaired", "Repaired", "修复行数"},
    {"policy", "Policy", "处理策略"},
    {"percentile", "Percentile", "分位数"},
    {"threshold", "Threshold", "阈值"},
    {"rows_above", "Rows above the threshold", "超过阈值的行数"},
    {"keep", "Keep (report only)", "保留(仅报告)"},
    {"cap", "Cap at the percentile", "按分位数截断"},
    {"reject", "Reject above the threshold", "超过阈值拒收"},
    {"links", "Identity links", "身份关联数"},
    {"ids", "Ids", "ID数"},
    {"merged_ids", "Ids merged into another person", "被合并的ID数"},
    {"overshared_identifiers", "Over-shared identifiers (not merged)", "过度共享的标识符(未合并)"},
    {"excluded_after_as_of", "Rows on or after the as-of date", "截至日期及之后的行"},
    /* report: reasons a row was rejected or repaired (keys of ingest's ST_REASON_MAP) */
    {"csv_syntax", "Malformed CSV/JSON record", "CSV/JSON格式错误"},
    {"wrong_field_count", "Wrong number of fields", "字段数不符"},
    {"missing_user_id", "Missing user id", "缺少用户ID"},
    {"missing_order_id", "Missing order id", "缺少订单号"},
    {"missing_timestamp", "Missing timestamp", "缺少时间"},
    {"bad_timestamp", "Timestamp in no accepted format", "时间格式无法识别"},
    {"missing_amount", "Missing amount", "缺少金额"},
    {"bad_amount", "Amount is not a number", "金额不是数字"},
    {"bad_quantity", "Quantity is not a number", "数量不是数字"},
    {"bad_unit_price", "Unit price is not a number", "单价不是数字"},
    {"bad_flag", "Flag is not yes/no", "是/否标记无效"},
    {"bad_number", "Numeric attribute is not a number", "数值属性不是数字"},
    {"missing_event_type", "Missing event type", "缺少事件类型"},
    {"missing_identifier", "Missing identifier", "缺少标识符"},
    {"amount_outlier", "Amount above the outlier threshold", "金额超过异常阈值"},
    {"duplicate", "Exact duplicate row", "完全重复的行"},
    {"after_as_of", "Dated on or after the as-of date", "晚于截至日期"},
    {"user_id_normalized", "User id normalised (17850.0 → 17850)", "用户ID已规范化"},
    {"amount_rounded", "Amount rounded to 6 decimals", "金额已四舍五入到6位小数"},
    {"cancel_sign_fixed", "Cancellation sign fixed", "退单金额符号已修正"},
    {"amount_capped", "Amount capped at the threshold", "金额已按阈值截断"},
    {"event_type_other", "Unknown event type kept as other", "未知事件类型归为其他"},
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
