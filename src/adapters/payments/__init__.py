"""Card payments: Izipay (Lyra Krypton REST V4), and a sandbox speaking its IPN format."""
