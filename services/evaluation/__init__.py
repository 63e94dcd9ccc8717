"""Evaluation: criteria and the review (bình xét) of registrations against them."""
