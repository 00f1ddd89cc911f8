"""Publishing pipeline for the collection of best municipal practices."""
