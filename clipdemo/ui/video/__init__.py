"""Video tab: find the moment in a video."""
