package plan

import (
	"log/slog"

	"github.com/fenqi/fenqi/pii"
)

// LogValue shows the customer in logs with the personal fields masked
// (name "张*", phone "138****0000", email "z***@example.com", ID number
// "1101**********1234") and without the financial profile.
func (c Customer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("ref", c.Ref), slog.String("name", pii.MaskName(c.Name)),
		slog.String("phone", pii.MaskPhone(c.Phone)), slog.String("email", pii.MaskEmail(c.Email)),
		slog.String("id_number", pii.MaskIDNumber(c.IDNumber)), slog.String("push_id", pii.MaskPushID(c.PushID)),
		slog.String("preferred_channel", string(c.PreferredChannel)))
}
