/* What the Stripe, Paddle, PayPal and Standard parsers make of each event
 * (SPEC §4 Pledges, Checkout, Webhooks): which events confirm the pledge's
 * price, with which figures, and which charge a refund or dispute names.
 * One row per payload; payloads are written with ' for ". */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "provider.h"

#include "wh_fake.h"

#define NONE INT64_MIN /* the event carries no amount */

struct row {
    const char *name;
    const struct provider *provider;
    const char *payload;
    enum wh_kind kind;
    int64_t amount;
    const char *currency, *interval, *period_end, *payment_id, *charge_ref;
};

static const struct row rows[] = {
    /* ---- Stripe: checkout sessions ---- */
    {"stripe session paid", &provider_stripe,
     "{'id':'e','type':'checkout.session.completed','data':{'object':{'mode':'subscription',"
     "'payment_status':'paid','subscription':'sub_1','amount_total':500,'currency':'usd'}}}",
     WH_PLEDGE_ACTIVATED, 500, "USD", "", "", "", ""},
    {"stripe session unpaid", &provider_stripe,
     "{'id':'e','type':'checkout.session.completed','data':{'object':{'mode':'subscription',"
     "'payment_status':'unpaid','subscription':'sub_1','amount_total':500,'currency':'usd'}}}",
     WH_IGNORED, 500, "USD", "", "", "", ""},
    {"stripe session nothing to pay", &provider_stripe,
     "{'id':'e','type':'checkout.session.completed','data':{'object':{'mode':'subscription',"
     "'payment_status':'no_payment_required','subscription':'sub_1','amount_total':0,"
     "'currency':'usd'}}}",
     WH_PLEDGE_ACTIVATED, NONE, "USD", "", "", "", ""},
    {"stripe async subscription", &provider_stripe,
     "{'id':'e','type':'checkout.session.async_payment_succeeded','data':{'object':{"
     "'mode':'subscription','payment_status':'paid','subscription':'sub_1','amount_total':700,"
     "'currency':'eur'}}}",
     WH_PLEDGE_ACTIVATED, 700, "EUR", "", "", "", ""},
    {"stripe async one-off", &provider_stripe,
     "{'id':'e','type':'checkout.session.async_payment_succeeded','data':{'object':{"
     "'mode':'payment','payment_status':'paid','payment_intent':'pi_1','amount_total':900,"
     "'currency':'usd'}}}",
     WH_PAYMENT_SUCCEEDED, 900, "USD", "once", "", "pi_1", ""},
    /* ---- Stripe: subscriptions ---- */
    {"stripe subscription active", &provider_stripe,
     "{'id':'e','type':'customer.subscription.updated','data':{'object':{'id':'sub_1',"
     "'status':'active','currency':'usd','items':{'data':[{'quantity':2,"
     "'current_period_end':1700000000,'price':{'unit_amount':700,'recurring':{"
     "'interval':'month','interval_count':1}}}]}}}}",
     WH_PLEDGE_ACTIVATED, 1400, "USD", "month", "2023-11-14T22:13:20Z", "", ""},
    {"stripe subscription trialing", &provider_stripe,
     "{'id':'e','type':'customer.subscription.created','data':{'object':{'id':'sub_1',"
     "'status':'trialing','currency':'usd','items':{'data':[{'quantity':1,"
     "'price':{'unit_amount':700,'recurring':{'interval':'year'}}}]}}}}",
     WH_IGNORED, 700, "USD", "year", "", "", ""},
    /* ---- Stripe: invoices name their payment intent ---- */
    {"stripe invoice, older API", &provider_stripe,
     "{'id':'e','type':'invoice.paid','data':{'object':{'id':'in_1','subscription':'sub_1',"
     "'payment_intent':'pi_1','charge':'ch_1','amount_paid':1200,'currency':'usd',"
     "'lines':{'data':[{'period':{'end':1700000000},'price':{'recurring':{'interval':'year',"
     "'interval_count':1}}}]}}}}",
     WH_PAYMENT_SUCCEEDED, 1200, "USD", "year", "2023-11-14T22:13:20Z", "in_1", "pi_1"},
    {"stripe invoice, basil", &provider_stripe,
     "{'id':'e','type':'invoice.payment_succeeded','data':{'object':{'id':'in_2',"
     "'parent':{'subscription_details':{'subscription':'sub_1'}},'amount_paid':500,"
     "'currency':'usd','payments':{'data':[{'payment':{'type':'payment_intent',"
     "'payment_intent':'pi_2'}}]},'lines':{'data':[{'period':{'end':1700000000},"
     "'price':{'recurring':{'interval':'month','interval_count':1}}}]}}}}",
     WH_PAYMENT_SUCCEEDED, 500, "USD", "month", "2023-11-14T22:13:20Z", "in_2", "pi_2"},
    {"stripe invoice paid by a bare charge", &provider_stripe,
     "{'id':'e','type':'invoice.paid','data':{'object':{'id':'in_3','subscription':'sub_1',"
     "'amount_paid':500,'currency':'usd','payments':{'data':[{'payment':{'type':'charge',"
     "'charge':'ch_3'}}]}}}}",
     WH_PAYMENT_SUCCEEDED, 500, "USD", "", "", "in_3", "ch_3"},
    /* ---- Stripe: refunds and disputes ---- */
    {"stripe refund", &provider_stripe,
     "{'id':'e','type':'charge.refunded','data':{'object':{'id':'ch_1','payment_intent':'pi_1',"
     "'amount_refunded':300,'currency':'usd','refunds':{'data':[{'id':'re_1','amount':300}]}}}}",
     WH_PAYMENT_REFUNDED, 300, "USD", "", "", "re_1", "pi_1"},
    {"stripe refund of a bare charge", &provider_stripe,
     "{'id':'e','type':'charge.refunded','data':{'object':{'id':'ch_3','amount_refunded':300,"
     "'currency':'usd','refunds':{'data':[{'id':'re_3','amount':300}]}}}}",
     WH_PAYMENT_REFUNDED, 300, "USD", "", "", "re_3", "ch_3"},
    {"stripe dispute", &provider_stripe,
     "{'id':'e','type':'charge.dispute.created','data':{'object':{'id':'dp_1','charge':'ch_1',"
     "'payment_intent':'pi_1','amount':500,'currency':'usd','status':'needs_response'}}}",
     WH_DISPUTE_OPENED, 500, "USD", "", "", "dp_1", "pi_1"},
    {"stripe dispute of a bare charge", &provider_stripe,
     "{'id':'e','type':'charge.dispute.created','data':{'object':{'id':'dp_3','charge':'ch_3',"
     "'payment_intent':null,'amount':500,'currency':'usd'}}}",
     WH_DISPUTE_OPENED, 500, "USD", "", "", "dp_3", "ch_3"},
    {"stripe dispute won", &provider_stripe,
     "{'id':'e','type':'charge.dispute.closed','data':{'object':{'id':'dp_1','charge':'ch_1',"
     "'payment_intent':'pi_1','amount':500,'currency':'usd','status':'won'}}}",
     WH_DISPUTE_WON, 500, "USD", "", "", "dp_1:won", "pi_1"},

    /* ---- Paddle ---- */
    {"paddle trial", &provider_paddle,
     "{'event_id':'e','event_type':'subscription.created','data':{'id':'sub_1',"
     "'status':'trialing','currency_code':'EUR','items':[{'quantity':1,'price':{"
     "'unit_price':{'amount':'1000'}}}]}}",
     WH_IGNORED, 1000, "EUR", "", "", "", ""},
    {"paddle activated", &provider_paddle,
     "{'event_id':'e','event_type':'subscription.activated','data':{'id':'sub_1',"
     "'status':'active','currency_code':'EUR','billing_cycle':{'interval':'year','frequency':1},"
     "'current_billing_period':{'ends_at':'2031-01-01T00:00:00Z'},'items':[{'quantity':2,"
     "'price':{'unit_price':{'amount':'1000'}}}]}}",
     WH_PLEDGE_ACTIVATED, 2000, "EUR", "year", "2031-01-01T00:00:00Z", "", ""},
    {"paddle price changed", &provider_paddle,
     "{'event_id':'e','event_type':'subscription.updated','data':{'id':'sub_1',"
     "'status':'active','currency_code':'USD','billing_cycle':{'interval':'month',"
     "'frequency':1},'items':[{'quantity':3,'price':{'unit_price':{'amount':'250'}}}]}}",
     WH_PLEDGE_ACTIVATED, 750, "USD", "month", "", "", ""},
    {"paddle every two months", &provider_paddle,
     "{'event_id':'e','event_type':'subscription.created','data':{'id':'sub_1',"
     "'status':'active','currency_code':'USD','billing_cycle':{'interval':'month',"
     "'frequency':2},'items':[{'price':{'unit_price':{'amount':'250'}}}]}}",
     WH_PLEDGE_ACTIVATED, 250, "USD", "", "", "", ""},
    {"paddle zero transaction", &provider_paddle,
     "{'event_id':'e','event_type':'transaction.completed','data':{'id':'txn_0',"
     "'subscription_id':'sub_1','currency_code':'USD','details':{'totals':{'grand_total':'0'}}}}",
     WH_IGNORED, 0, "USD", "", "", "txn_0", ""},
    {"paddle transaction", &provider_paddle,
     "{'event_id':'e','event_type':'transaction.completed','data':{'id':'txn_1',"
     "'subscription_id':'sub_1','currency_code':'USD','billing_period':{'ends_at':"
     "'2031-02-01T00:00:00Z'},'items':[{'price':{'billing_cycle':{'interval':'month',"
     "'frequency':1}}}],'details':{'totals':{'grand_total':'1000'}}}}",
     WH_PAYMENT_SUCCEEDED, 1000, "USD", "month", "2031-02-01T00:00:00Z", "txn_1", ""},
    {"paddle refund", &provider_paddle,
     "{'event_id':'e','event_type':'adjustment.created','data':{'id':'adj_1','action':'refund',"
     "'status':'approved','transaction_id':'txn_1','currency_code':'USD',"
     "'totals':{'total':'400'}}}",
     WH_PAYMENT_REFUNDED, 400, "USD", "", "", "adj_1", "txn_1"},
    {"paddle chargeback", &provider_paddle,
     "{'event_id':'e','event_type':'adjustment.updated','data':{'id':'adj_2',"
     "'action':'chargeback','status':'approved','transaction_id':'txn_1','currency_code':'USD',"
     "'totals':{'total':'1000'}}}",
     WH_DISPUTE_OPENED, 1000, "USD", "", "", "adj_2", "txn_1"},

    /* ---- PayPal ---- */
    {"paypal suspended", &provider_paypal,
     "{'id':'e','event_type':'BILLING.SUBSCRIPTION.SUSPENDED','resource':{'id':'I-1',"
     "'status':'SUSPENDED'}}",
     WH_PAYMENT_FAILED, NONE, "", "", "", "", ""},
    {"paypal re-activated", &provider_paypal,
     "{'id':'e','event_type':'BILLING.SUBSCRIPTION.RE-ACTIVATED','resource':{'id':'I-1',"
     "'status':'ACTIVE','billing_info':{'next_billing_time':'2031-03-01T10:00:00Z',"
     "'last_payment':{'amount':{'value':'7.50','currency_code':'EUR'}}}}}",
     WH_PLEDGE_ACTIVATED, 750, "EUR", "", "2031-03-01T10:00:00Z", "", ""},
    {"paypal activated in a free trial", &provider_paypal,
     "{'id':'e','event_type':'BILLING.SUBSCRIPTION.ACTIVATED','resource':{'id':'I-1',"
     "'billing_info':{'last_payment':{'amount':{'value':'0.00','currency_code':'USD'}}}}}",
     WH_PLEDGE_ACTIVATED, NONE, "USD", "", "", "", ""},
    {"paypal sale", &provider_paypal,
     "{'id':'e','event_type':'PAYMENT.SALE.COMPLETED','resource':{'id':'S1',"
     "'billing_agreement_id':'I-1','amount':{'total':'5.00','currency':'USD'}}}",
     WH_PAYMENT_SUCCEEDED, 500, "USD", "", "", "S1", ""},
    {"paypal refund", &provider_paypal,
     "{'id':'e','event_type':'PAYMENT.SALE.REFUNDED','resource':{'id':'R1','sale_id':'S1',"
     "'amount':{'total':'2.50','currency':'USD'}}}",
     WH_PAYMENT_REFUNDED, 250, "USD", "", "", "R1", "S1"},
    {"paypal refund, negative as in PayPal's samples", &provider_paypal,
     "{'id':'e','event_type':'PAYMENT.SALE.REFUNDED','resource':{'id':'R2','sale_id':'S1',"
     "'amount':{'total':'-0.01','currency':'USD'}}}",
     WH_PAYMENT_REFUNDED, 1, "USD", "", "", "R2", "S1"},
    {"paypal reversal naming its sale", &provider_paypal,
     "{'id':'e','event_type':'PAYMENT.SALE.REVERSED','resource':{'id':'R3','sale_id':'S1',"
     "'amount':{'total':'-5.00','currency':'USD'}}}",
     WH_DISPUTE_OPENED, 500, "USD", "", "", "R3:reversed", "S1"},
    {"paypal reversal of the sale itself", &provider_paypal,
     "{'id':'e','event_type':'PAYMENT.SALE.REVERSED','resource':{'id':'S1','state':'reversed',"
     "'amount':{'total':'5.00','currency':'USD'}}}",
     WH_DISPUTE_OPENED, 500, "USD", "", "", "S1:reversed", "S1"},

    /* ---- Standard: patrond's own events carry their figures as sent ---- */
    {"standard activated", &provider_standard,
     "{'type':'pledge.activated','timestamp':'2031-01-01T00:00:00Z','data':{"
     "'subscription_id':'s1','amount_minor':800,'currency':'eur','interval':'year',"
     "'period_end':'2032-01-01T00:00:00Z'}}",
     WH_PLEDGE_ACTIVATED, 800, "EUR", "year", "2032-01-01T00:00:00Z", "", ""},
    {"standard payment", &provider_standard,
     "{'type':'payment.succeeded','timestamp':'2031-01-01T00:00:00Z','data':{"
     "'subscription_id':'s1','payment_id':'p1','amount_minor':800,'currency':'EUR',"
     "'interval':'month'}}",
     WH_PAYMENT_SUCCEEDED, 800, "EUR", "month", "", "p1", ""},
};

static void check_row(const struct row *r)
{
    struct wh_event ev;
    int failed_before = check_failed;
    headers_reset();
    header("webhook-id", "msg_1");
    bool ok = parse(r->provider, J(r->payload), &ev);
    CHECK(ok);
    if (!ok) {
        printf("    row \"%s\": %s\n", r->name, why);
        return;
    }
    CHECK_EQ_INT(ev.kind, r->kind);
    CHECK_EQ_INT(ev.has_amount ? ev.amount_minor : NONE, r->amount);
    CHECK_EQ_STR(ev.currency, r->currency);
    CHECK_EQ_STR(ev.interval, r->interval);
    CHECK_EQ_STR(ev.period_end, r->period_end);
    CHECK_EQ_STR(ev.payment_id, r->payment_id);
    CHECK_EQ_STR(ev.charge_ref, r->charge_ref);
    if (check_failed > failed_before) printf("    in row \"%s\"\n", r->name);
}

/* Malformed or impossible figures are refused, never guessed. */
static void test_refused(void)
{
    static const struct {
        const struct provider *provider;
        const char *payload;
    } bad[] = {
        {&provider_paypal, "{'id':'e','event_type':'PAYMENT.SALE.COMPLETED','resource':{'id':'S1',"
                           "'amount':{'total':'-5.00','currency':'USD'}}}"},
        {&provider_paypal, "{'id':'e','event_type':'PAYMENT.SALE.REFUNDED','resource':{'id':'R1',"
                           "'amount':{'total':'-9223372036854775808','currency':'JPY'}}}"},
        {&provider_paypal, "{'id':'e','event_type':'PAYMENT.SALE.REVERSED','resource':{'id':'R1',"
                           "'sale_id':7,'amount':{'total':'1.00','currency':'USD'}}}"},
        {&provider_paypal,
         "{'id':'e','event_type':'BILLING.SUBSCRIPTION.SUSPENDED','resource':{}}"},
        {&provider_stripe, "{'id':'e','type':'invoice.paid','data':{'object':{'id':'in_1',"
                           "'amount_paid':500,'currency':'usd','payment_intent':{'id':'pi_1'}}}}"},
        {&provider_stripe,
         "{'id':'e','type':'charge.dispute.created','data':{'object':{'id':'dp_1',"
         "'amount':500,'currency':'usd','charge':5}}}"},
        {&provider_paddle, "{'event_id':'e','event_type':'adjustment.created','data':{'id':'adj_1',"
                           "'action':'refund','status':'approved','transaction_id':1,"
                           "'currency_code':'USD','totals':{'total':'400'}}}"},
        {&provider_paddle,
         "{'event_id':'e','event_type':'subscription.created','data':{'id':'sub_1',"
         "'status':5}}"},
    };
    struct wh_event ev;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        headers_reset();
        bool ok = parse(bad[i].provider, J(bad[i].payload), &ev);
        CHECK(!ok);
        if (ok) printf("    accepted: %s\n", bad[i].payload);
    }
}

/* A Stripe refund tells when its charge was made (the charge's `created`),
 * the only link to an invoice that does not name its payment intent; it
 * restates no amount, so it books no charge of its own. */
static void test_refund_charge_time(void)
{
    static const char *const with =
        "{'id':'e','type':'charge.refunded','data':{'object':{'id':'ch_1','created':1700000000,"
        "'payment_intent':'pi_1','amount':500,'amount_refunded':500,'currency':'usd',"
        "'refunds':{'data':[{'id':'re_1','amount':500}]}}}}";
    static const char *const without =
        "{'id':'e','type':'charge.refunded','data':{'object':{'id':'ch_1','payment_intent':'pi_1',"
        "'amount_refunded':500,'currency':'usd','refunds':{'data':[{'id':'re_1','amount':500}]}}}}";
    static const char *const malformed =
        "{'id':'e','type':'charge.refunded','data':{'object':{'id':'ch_1','created':'today',"
        "'payment_intent':'pi_1','amount_refunded':500,'currency':'usd',"
        "'refunds':{'data':[{'id':'re_1','amount':500}]}}}}";
    struct wh_event ev;
    headers_reset();
    CHECK(parse(&provider_stripe, J(with), &ev));
    CHECK_EQ_STR(ev.charge_at, "2023-11-14T22:13:20Z");
    CHECK(!ev.has_charge);
    headers_reset();
    CHECK(parse(&provider_stripe, J(without), &ev));
    CHECK_EQ_STR(ev.charge_at, "");
    headers_reset();
    CHECK(!parse(&provider_stripe, J(malformed), &ev));
}

int main(void)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        check_row(&rows[i]);
    test_refused();
    test_refund_charge_time();
    return CHECK_DONE();
}
