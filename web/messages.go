package web

import (
	"fmt"
	"net/http"
)

// The page's languages: Chinese (the default) and English.
const (
	langZH = "zh"
	langEN = "en"
)

// messages is every string the page shows, by key, in Chinese and English.
// A key missing from a language falls back to Chinese, then to the key.
var messages = map[string][2]string{
	// {zh, en}
	"app.name":     {"分期", "fenqi"},
	"nav.logout":   {"退出", "Sign out"},
	"nav.plans":    {"我的分期", "My plans"},
	"lang.switch":  {"English", "中文"},
	"login.title":  {"登录", "Sign in"},
	"login.token":  {"访问令牌", "Access token"},
	"login.hint":   {"请输入我们发给您的访问令牌。", "Enter the access token we gave you."},
	"login.submit": {"登录", "Sign in"},

	"list.title":       {"我的分期", "My plans"},
	"list.none":        {"您还没有分期。", "You have no plans yet."},
	"list.open":        {"查看", "Open"},
	"list.unavailable": {"暂时无法列出您的分期。请输入分期编号：", "Your plans cannot be listed right now. Enter a plan id:"},
	"list.plan_id":     {"分期编号", "Plan id"},
	"list.go":          {"打开", "Open"},

	"list.apply":             {"申请新的分期", "Apply for a new plan"},
	"apply.title":            {"申请分期", "Apply for instalments"},
	"apply.hint":             {"提交后我们会立即评估，并给出可选的分期方案。", "We assess your application at once and show you the offers you can choose from."},
	"apply.loan":             {"借款", "The loan"},
	"apply.amount":           {"金额（元）", "Amount (CNY)"},
	"apply.terms":            {"期数", "Instalments"},
	"apply.terms_any":        {"由方案决定", "Let the offers decide"},
	"apply.terms_n":          {"%d 期", "%d instalments"},
	"apply.about_you":        {"个人信息", "About you"},
	"apply.name":             {"姓名", "Name"},
	"apply.id_number":        {"身份证号", "ID number"},
	"apply.age":              {"年龄", "Age"},
	"apply.occupation":       {"职业", "Occupation"},
	"apply.phone":            {"手机号", "Phone"},
	"apply.email":            {"电子邮箱", "Email"},
	"apply.channel":          {"通知方式", "How we contact you"},
	"apply.finances":         {"收入与负债（元/月）", "Income and debts (CNY)"},
	"apply.income":           {"月收入", "Monthly income"},
	"apply.debts":            {"每月还债支出", "Monthly debt payments"},
	"apply.spend":            {"每月生活支出", "Monthly spending"},
	"apply.assets":           {"资产", "Assets"},
	"apply.liabilities":      {"负债", "Liabilities"},
	"apply.consent":          {"我同意贵方为评估本申请查询并使用上述信息。", "I agree that you check and use the details above to assess this application."},
	"apply.consent_required": {"请勾选同意", "must be ticked"},
	"apply.submit":           {"提交申请", "Apply"},
	"channel.sms":            {"短信", "SMS"},
	"channel.email":          {"邮件", "Email"},
	"channel.push":           {"App 推送", "App notification"},
	"channel.phone":          {"电话", "Phone call"},

	"progress.instalments": {"已还 %d/%d 期", "%d/%d instalments paid"},
	"progress.amount":      {"已还 %s / %s", "%s of %s paid"},
	"next.due":             {"下次还款 %s：%s", "Next due %s: %s"},
	"next.overdue":         {"没有待到期的分期，逾期 %s", "Nothing ahead, %s overdue"},
	"next.none":            {"没有待还款项", "Nothing more due"},
	"plan.title":           {"分期详情", "Plan"},
	"plan.state":           {"状态", "State"},
	"plan.id":              {"编号", "Plan"},
	"plan.business_date":   {"业务日期 %s", "Business date %s"},
	"plan.back":            {"返回我的分期", "Back to my plans"},
	"plan.back_plan":       {"返回分期详情", "Back to the plan"},
	"plan.reasons":         {"原因", "Reasons"},
	"plan.waiting":         {"我们正在审核您的申请，请稍后再来查看。", "We are assessing your application; please check again later."},
	"plan.awaiting":        {"您的变更申请正在等待人工审批。", "Your change is waiting for an operator's approval."},
	"plan.complaints":      {"未结投诉", "Open complaints"},
	"plan.close_reason":    {"结清方式：%s", "Ended: %s"},

	"state.assessing":   {"审核中", "Assessing"},
	"state.review":      {"人工审核中", "In review"},
	"state.offered":     {"待选择方案", "Choose an offer"},
	"state.signing":     {"待签署协议", "Sign the agreement"},
	"state.active":      {"还款中", "Active"},
	"state.closed":      {"已结清", "Closed"},
	"state.declined":    {"未获批准", "Declined"},
	"state.expired":     {"已过期", "Expired"},
	"state.withdrawn":   {"已撤回", "Withdrawn"},
	"state.written_off": {"已核销", "Written off"},

	"schedule.title":     {"还款计划", "Schedule"},
	"schedule.no":        {"期数", "No."},
	"schedule.due":       {"到期日", "Due"},
	"schedule.principal": {"本金", "Principal"},
	"schedule.interest":  {"利息", "Interest"},
	"schedule.fee":       {"费用", "Fee"},
	"schedule.payment":   {"应还", "Payment"},
	"schedule.status":    {"状态", "Status"},
	"schedule.holiday":   {"暂停", "Holiday"},
	"schedule.autodebit": {"每期款项在到期日自动从您的还款账户扣除，请确保余额充足；如需提前还清，请使用下方的提前还款或取消分期。", "Each instalment is debited from your repayment account on its due date: keep enough money in it. To repay sooner, use early repayment or cancellation below."},

	"inst.pending":        {"未到期", "Pending"},
	"inst.due":            {"待还", "Due"},
	"inst.paid":           {"已还", "Paid"},
	"inst.partially_paid": {"部分已还", "Partly paid"},
	"inst.overdue":        {"逾期", "Overdue"},
	"inst.waived":         {"已减免", "Waived"},
	"inst.written_off":    {"已核销", "Written off"},

	"overdue.title":    {"逾期欠款", "Overdue"},
	"overdue.days":     {"逾期 %d 天", "%d days past due"},
	"overdue.penalty":  {"罚息", "Penalty"},
	"overdue.total":    {"合计", "Total"},
	"overdue.pay_by":   {"请于 %s 前还款", "Please pay by %s"},
	"overdue.owed_now": {"今日应还合计 %s", "Owed today in all: %s"},

	"agreement.title":    {"借款协议", "Agreement"},
	"agreement.download": {"下载协议（文本）", "Download the agreement (text)"},
	"agreement.hash":     {"协议摘要（SHA-256）", "Agreement hash (SHA-256)"},
	"agreement.missing":  {"暂时无法读取协议。", "The agreement cannot be read right now."},

	"offers.title":      {"请选择方案", "Choose an offer"},
	"offers.terms":      {"期数", "Terms"},
	"offers.amount":     {"金额", "Amount"},
	"offers.instalment": {"每期", "Instalment"},
	"offers.cost":       {"总成本", "Total cost"},
	"offers.apr":        {"年化利率（IRR）", "Annual rate (IRR)"},
	"offers.choose":     {"选择此方案", "Choose this offer"},
	"offers.expire":     {"方案有效期至 %s", "Offers valid until %s"},

	"sign.title":   {"签署协议", "Sign the agreement"},
	"sign.name":    {"您的姓名", "Your name"},
	"sign.consent": {"我已阅读并同意上述协议，同意以电子方式签署。", "I have read and agree to the agreement above, and sign it electronically."},
	"sign.submit":  {"签署", "Sign"},
	"sign.quoting": {"您签署的是摘要为 %s 的协议。", "You are signing the agreement whose hash is %s."},

	"actions.title":         {"办理业务", "Requests"},
	"cancel.title":          {"取消分期", "Cancel the instalments"},
	"cancel.lump_sum":       {"一次性结清", "Repay in one lump sum"},
	"cancel.fewer_terms":    {"缩短期数", "Repay over fewer instalments"},
	"cancel.terms":          {"新期数（缩短期数时）", "New number of instalments (fewer instalments)"},
	"cancel.at_next_due":    {"在下次还款日结清", "Settle on the next due date"},
	"restructure.title":     {"调整还款计划", "Restructure"},
	"restructure.terms":     {"新的剩余期数", "New number of remaining instalments"},
	"restructure.max":       {"或：每期最多（元）", "Or: highest instalment"},
	"restructure.frequency": {"还款频率", "Frequency"},
	"freq.same":             {"不变", "Unchanged"},
	"freq.monthly":          {"每月", "Monthly"},
	"freq.quarterly":        {"每季度", "Quarterly"},
	"holiday.title":         {"暂停还款", "Payment holiday"},
	"holiday.periods":       {"暂停期数", "Instalments to pause"},
	"prepay.title":          {"提前还款", "Repay early"},
	"prepay.amount":         {"金额（留空则全部结清）", "Amount (empty: repay everything)"},
	"prepay.reduce":         {"部分还款后", "After a partial repayment"},
	"reduce.instalment":     {"降低每期金额", "Lower the instalment"},
	"reduce.term":           {"缩短期限", "Shorten the term"},
	"complaint.title":       {"投诉", "Complaint"},
	"complaint.text":        {"请描述您的问题", "Tell us what happened"},
	"complaint.submit":      {"提交投诉", "Send the complaint"},
	"field.reason":          {"原因（可选）", "Reason (optional)"},
	"action.quote":          {"获取报价", "Get a quote"},

	"quote.title":              {"报价", "Quote"},
	"quote.summary":            {"说明", "What confirming does"},
	"quote.due_now":            {"确认后立即扣款", "Collected when you confirm"},
	"quote.fee":                {"手续费", "Fee"},
	"quote.instalment":         {"新的每期金额", "New instalment"},
	"quote.total":              {"新计划应还合计", "New schedule in all"},
	"quote.before":             {"变更前", "Before"},
	"quote.after":              {"变更后", "After"},
	"quote.instalments":        {"剩余期数", "Instalments left"},
	"quote.remaining":          {"剩余应还", "Left to pay"},
	"quote.apr":                {"年化利率（IRR）", "Annual rate (IRR)"},
	"quote.expires":            {"报价有效期至 %s（业务时间）", "The quote holds until %s (business time)"},
	"quote.approval":           {"确认后还需人工审批。", "After you confirm, an operator must approve it."},
	"quote.confirm":            {"确认", "Confirm"},
	"quote.refused":            {"无法办理：%s", "Not possible: %s"},
	"request.title":            {"您的申请", "Your request"},
	"request.done":             {"已办理。", "Done."},
	"request.refused":          {"未能办理：%s", "Not done: %s"},
	"request.unknown":          {"找不到该申请的结果，请回到分期详情重新办理。", "The answer to this request is no longer at hand; go back to the plan and ask again."},
	"request.confirmed":        {"已确认，新的还款计划已生效。", "Confirmed: the new schedule applies."},
	"request.pending_approval": {"已确认，正在等待人工审批。", "Confirmed: waiting for an operator's approval."},

	"kind.cancel":       {"取消分期", "Cancellation"},
	"kind.restructure":  {"调整还款计划", "Restructure"},
	"kind.holiday":      {"暂停还款", "Payment holiday"},
	"kind.prepay":       {"提前还款", "Early repayment"},
	"kind.arrears-plan": {"欠款分期", "Arrears plan"},
	"kind.waive":        {"减免", "Waiver"},

	"err.title":       {"出错了", "Something went wrong"},
	"err.not_yours":   {"找不到这笔分期，或它不属于您。", "There is no such plan among yours."},
	"err.not_found":   {"找不到该页面。", "There is no such page."},
	"err.csrf":        {"表单已过期，请刷新页面后重试。", "This form has expired: reload the page and try again."},
	"err.form":        {"无法读取表单。", "The form could not be read."},
	"err.bad_token":   {"访问令牌无效。", "That access token is not valid."},
	"err.invalid":     {"请检查输入：%s %s", "Please check: %s %s"},
	"err.number":      {"请检查输入：%s 应为数字", "Please check: %s must be a number"},
	"err.rejected":    {"目前无法办理：%s", "This is not possible now: %s"},
	"err.unavailable": {"服务暂时不可用，请稍后再试。", "The service is not available right now; please try again later."},
	"err.timeout":     {"处理超时，请稍后刷新查看结果。", "No answer in time; reload in a moment to see the outcome."},
	"err.internal":    {"系统出错，请稍后再试。", "Something failed on our side; please try again later."},
	"err.action":      {"不支持的操作。", "That is not something this page can do."},
}

// fieldLabels name the request fields of validation errors.
var fieldLabels = map[string]string{
	"terms": "cancel.terms", "max_instalment": "restructure.max", "frequency": "restructure.frequency",
	"periods": "holiday.periods", "amount": "prepay.amount", "reduce": "prepay.reduce", "text": "complaint.text",
	"reason": "field.reason", "name": "sign.name", "consent": "sign.consent", "offer": "offers.title",
	"offer_set": "offers.title", "mode": "cancel.title",
	"amount_requested": "apply.amount", "terms_requested": "apply.terms", "customer.name": "apply.name", "customer.id_number": "apply.id_number",
	"customer.age": "apply.age", "customer.occupation": "apply.occupation", "customer.phone": "apply.phone",
	"customer.email": "apply.email", "customer.preferred_channel": "apply.channel",
	"customer.monthly_income": "apply.income", "customer.monthly_debt_payments": "apply.debts",
	"customer.assets": "apply.assets", "customer.liabilities": "apply.liabilities",
	"customer.monthly_spend": "apply.spend", "consent_credit": "apply.consent", "age": "apply.age",
	"monthly_income": "apply.income", "monthly_debt_payments": "apply.debts", "assets": "apply.assets",
	"liabilities": "apply.liabilities", "monthly_spend": "apply.spend",
}

// translate returns the message key in lang, formatted with args.
func translate(lang, key string, args ...any) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	s := m[0]
	if lang == langEN && m[1] != "" {
		s = m[1]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// lang is the request's language: ?lang= (kept in a cookie), else the
// cookie, else Chinese.
func (h *Handler) lang(w http.ResponseWriter, r *http.Request) string {
	if q := r.URL.Query().Get("lang"); q == langZH || q == langEN {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: q, Path: "/app", MaxAge: 365 * 24 * 3600,
			SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil, HttpOnly: true})
		return q
	}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == langZH || c.Value == langEN) {
		return c.Value
	}
	return langZH
}
