// The order status page follows its order live (Subscription.orderUpdated
// over server-sent events) until the payment settles; a partly paid
// order is followed while its rest may still be paid. Without JavaScript
// or EventSource the page still shows the status as of its loading.
(function () {
  "use strict";
  var card = document.getElementById("order-status");
  if (!card || card.dataset.live !== "true" || !window.EventSource) return;
  var labels = JSON.parse(card.dataset.labels);
  var status = document.getElementById("payment-status");
  var message = document.getElementById("payment-message");
  var url = "/graphql/stream?operationName=StorefrontOrderStatusLive" +
    "&query=" + encodeURIComponent(card.dataset.query) +
    "&variables=" + encodeURIComponent(card.dataset.variables);
  var stream = new EventSource(url);
  // The status the page was drawn with: a page drawn before the order was
  // partly paid has neither the amounts nor the form paying the rest.
  var drawn = status.dataset.status;

  function settled(o) {
    return o.status !== "OPEN" || (o.paymentStatus !== "PENDING" && o.paymentStatus !== "FAILED" &&
      o.paymentStatus !== "AUTHORIZED" && o.paymentStatus !== "PARTIALLY_PAID");
  }

  // show writes an amount where the page shows one, as the page wrote it.
  function show(id, m) {
    var el = document.getElementById(id);
    if (el && m) el.textContent = card.dataset.money + m.amount;
  }

  function hide(id) {
    var el = document.getElementById(id);
    if (el) el.hidden = true;
  }

  stream.addEventListener("next", function (e) {
    var o = (JSON.parse(e.data).data || {}).orderUpdated;
    if (!o) return;
    if (o.status === "OPEN" && o.paymentStatus === "PARTIALLY_PAID" && drawn !== "PARTIALLY_PAID") {
      stream.close();
      window.location.reload();
      return;
    }
    var key = o.status === "CANCELLED" ? "CANCELLED" : o.paymentStatus;
    status.textContent = labels[key] || key;
    status.dataset.status = key;
    status.className = "status status-" + key;
    show("amount-paid", o.amountPaid);
    show("amount-outstanding", o.amountOutstanding);
    if (o.paymentStatus !== "PARTIALLY_PAID") hide("rest");
    var latest = o.payments.length ? o.payments[o.payments.length - 1] : null;
    // An attempt that took part of its money (a transfer confirmed short)
    // no longer asks the buyer for all of it.
    if (latest && latest.captured && Number(latest.captured.amount) > 0) hide("payment-action");
    if (latest && latest.state === "FAILED" && !settled(o)) {
      message.querySelector(".decline").textContent = latest.buyerMessage || "";
      message.hidden = false;
      hide("payment-action");
    } else {
      message.hidden = true;
    }
    if (settled(o)) {
      stream.close();
      hide("payment-action");
      hide("live-hint");
    }
  });
  stream.addEventListener("complete", function () { stream.close(); });
})();
