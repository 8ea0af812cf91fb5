"""Pure analysis methods: DataFrames and parameters in, DataFrames or result objects out."""
