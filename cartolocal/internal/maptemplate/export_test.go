package maptemplate

// SubstituteSQL exposes substituteSQL to the external tests: one placeholder v of type typ.
func SubstituteSQL(sql, typ, v string) (string, error) {
	if err := checkValue("v", typ, v); err != nil {
		return "", err
	}
	out, err := substituteSQL(sql, map[string]string{"v": typ}, map[string]string{"v": v})
	if err != nil {
		return "", err
	}
	return out, nil
}
