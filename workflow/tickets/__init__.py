"""Setup tickets: filing, deciding, provisioning, completing, their notices and read model."""
