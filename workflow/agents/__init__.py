"""What a provisioned agent account offers: password letters, setup links, Web phone."""
