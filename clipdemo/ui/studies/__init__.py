"""The Few-shot & compare tab: the CLIP paper's probe comparison, and two models side by side."""
