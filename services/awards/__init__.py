"""Awards: nominations (đề nghị khen thưởng), appraisal (thẩm định) and decisions (quyết định)."""
