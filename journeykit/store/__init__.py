"""The store's mirror: domain events applied to customers, catalog, orders and carts; catalog
questions such as substitutes."""
