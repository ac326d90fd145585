"""P1 ask once: two orders delivered together get one review ask, and its link reviews the
products of both orders (each review recorded against its own order)."""

from __future__ import annotations

import pendulum
from sqlmodel import select

from journeykit.foundation.models import Order, OutboxMessage, Product, Review
from tests.web.conftest import Web, order_placed, product
from tests.web.test_action_links import token_of


def test_two_orders_one_ask_and_its_link_reviews_both(web: Web) -> None:
    web.emit(product(), "p1")
    web.emit(product("RUG-1", "Rug"), "p2")
    web.emit(order_placed(), "o1")
    web.emit(order_placed("1002", skus=("RUG-1",)), "o2")
    web.emit({"type": "order.delivered", "order_number": "1001"}, "d1")
    web.emit({"type": "order.delivered", "order_number": "1002"}, "d2")
    web.clock.advance(pendulum.duration(days=15))
    web.sweep()
    web.clock.advance(pendulum.duration(days=1))
    web.sweep()
    with web.session() as session:
        asks = session.exec(select(OutboxMessage).where(OutboxMessage.node_id == "ask")).all()
        assert len(asks) == 1
        assert "Sofa, Rug" in asks[0].content["html"] or "Rug, Sofa" in asks[0].content["html"]
        rug = session.exec(select(Product).where(Product.title == "Rug")).one()
        second = session.exec(select(Order).where(Order.number == "1002")).one()
    client = web.client()
    path = web.links("ask")["review"]
    page = client.get(f"{path}?product={rug.id}")
    assert page.status_code == 200 and "Rug" in page.text
    answer = client.post(
        path,
        data={
            "csrf_token": token_of(page.text),
            "product_id": str(rug.id),
            "rating": "5",
            "body": "Soft",
        },
    )
    assert answer.status_code == 200, answer.text
    with web.session() as session:
        review = session.exec(select(Review)).one()
        assert (review.product_id, review.order_id) == (rug.id, second.id)
