"""The hearing and seeing adapters against local servers speaking their providers' wire
formats, and espeak-ng run for real."""
