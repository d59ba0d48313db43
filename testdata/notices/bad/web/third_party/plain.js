var plain;
