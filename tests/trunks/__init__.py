"""Tests of carrier trunks: probing, health, registration, routing and failover."""
