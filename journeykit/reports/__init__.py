"""Reports merchants read: out-of-stock demand (R4), backorder buyers vs others (B6)."""
