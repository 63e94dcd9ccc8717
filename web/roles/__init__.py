"""The pages of the unit head, the council and the authority: one blueprint each."""
