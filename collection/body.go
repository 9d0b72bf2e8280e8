package collection

import (
	"fmt"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/contact"
)

// amountsText states amounts by component: "principal 1000.00, interest
// 50.00, fees 0.00, late charges (penalty interest) 7.50".
func amountsText(a calc.Amounts) string {
	return fmt.Sprintf("principal %s, interest %s, fees %s, late charges (penalty interest) %s",
		calc.FormatMoney(a.Principal), calc.FormatMoney(a.Interest), calc.FormatMoney(a.Fee), calc.FormatMoney(a.Penalty))
}

// owedText states what is owed, by component, and the pay-by date.
func owedText(o Breakdown) string {
	return fmt.Sprintf("As of %s you owe %s: %s. Please pay %s by %s.",
		o.AsOf, calc.FormatMoney(o.Due.Total()), amountsText(o.Due), calc.FormatMoney(o.Due.Total()), o.PayBy)
}

// helpText is the way out offered in every written contact.
const helpText = "If you are having difficulty paying, contact us: we can agree a payment date or an arrears plan (the arrears repaid in instalments). " +
	"To complain, use the complaint channel in the app or call customer service."

// contactBody is the text of a contact step. Written contacts are
// addressed to the debtor alone and name nobody else; a call task is the
// agent's brief.
func contactBody(k Kind, ch contact.Channel, dpd int, o Breakdown) string {
	switch k {
	case CallTask:
		return fmt.Sprintf("Call the customer about the instalment plan, %d days past due. Speak only with the customer in person and disclose nothing about the debt otherwise. "+
			"Owed as of %s: %s (%s); pay-by date %s. Ask about the cause and offer a solution: a promise to pay, an arrears plan or a restructure. Record the outcome.",
			dpd, o.AsOf, calc.FormatMoney(o.Due.Total()), amountsText(o.Due), o.PayBy)
	case Notice:
		return fmt.Sprintf("Notice of arrears. Your instalment plan is %d days past due. %s %s", dpd, owedText(o), helpText)
	case DemandLetter:
		return fmt.Sprintf("Formal demand for payment. Your instalment plan is %d days past due. %s "+
			"If it is not paid, we may take the further steps set out in your agreement, which may include legal action. %s", dpd, owedText(o), helpText)
	case RestructureOffer:
		return fmt.Sprintf("We can help you get back on track. Your instalment plan is %d days past due. %s "+
			"If you cannot pay it all, you may ask for an arrears plan (the arrears repaid in instalments) or a restructure of your plan (a longer term or a lower instalment): "+
			"reply or use the app to get a quote. To complain, use the complaint channel in the app or call customer service.", dpd, owedText(o))
	}
	via := ""
	if ch == contact.Push {
		via = "Open the app to pay. "
	}
	return fmt.Sprintf("Reminder: your instalment plan is %d days past due. %s %s%s", dpd, owedText(o), via, helpText)
}

// operatorBody is the brief of an operator task.
func operatorBody(k Kind, a Action, o Breakdown) string {
	if k == WriteOffTask {
		return fmt.Sprintf("Write-off decision: the plan is %d days past due (%s). Remaining balance %s (%s), of which %s is due as of %s. "+
			"Decide: approve (write off the remaining balance) or decline (keep collecting).",
			a.DaysPastDue, a.Bucket, calc.FormatMoney(o.Remaining.Total()), amountsText(o.Remaining), calc.FormatMoney(o.Due.Total()), o.AsOf)
	}
	return fmt.Sprintf("Legal referral: the plan is %d days past due (%s) and owes %s as of %s (%s). "+
		"Decide: refer (legal action), hold (raised again later) or negotiate (offer an arrears plan or a restructure).",
		a.DaysPastDue, a.Bucket, calc.FormatMoney(o.Due.Total()), o.AsOf, amountsText(o.Due))
}
