#!/usr/bin/env python3
"""Drive the cvmbot Tencent Cloud simulator with the official tencentcloud-sdk-python, unchanged.

Usage: sdk_interop.py SIMULATOR_URL SECRET_ID SECRET_KEY

Buys one instance of each charge type, advances the simulator's clock (control endpoint) until
each runs with a public IP, quotes prices, reads the balance, quotes and renews the prepaid one and
switches it to auto-renew, quotes refunds, terminates everything (the prepaid one twice: recycle bin,
then destroyed), has a misspelt member refused as UnknownParameter, checks that
a wrong key fails with AuthFailure.SignatureFailure through the SDK's own exception, and signs one
request by hand over `content-type;host;x-tc-action` (the SDK itself signs only content-type;host).
Then drives it again the other ways the SDK can speak: TC3 over GET (parameters flattened into the
query string), TC3 with an unsigned payload, and the older HmacSHA1 / HmacSHA256 signatures.
Prints ALL OK and exits 0 when every check passes.
"""

import hashlib
import hmac
import json
from decimal import Decimal
import sys
import time
import urllib.request
from datetime import datetime, timezone

from tencentcloud.billing.v20180709 import billing_client
from tencentcloud.billing.v20180709 import models as billing_models
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client, models

REGION = "ap-guangzhou"
ZONE = "ap-guangzhou-3"


# The month the simulator's test clock starts in (2025-01-01T00:00:00Z), Beijing time.
SIM_MONTH = "2025-01"


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print("ok:", what)


def profile(endpoint, method="POST", sign_method=None, unsigned=False):
    http = HttpProfile(endpoint=endpoint, protocol="http", reqMethod=method)
    http.scheme = "http"
    http.reqTimeout = 30
    client_profile = ClientProfile(signMethod=sign_method, httpProfile=http)
    client_profile.unsignedPayload = unsigned
    return client_profile


def control(url, path, body):
    request = urllib.request.Request(
        url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def purchase(charge_type, token):
    body = {
        "InstanceChargeType": charge_type,
        "Placement": {"Zone": ZONE},
        "InstanceType": "S5.MEDIUM4",
        "ImageId": "img-487zeit5",
        "SystemDisk": {"DiskType": "CLOUD_PREMIUM", "DiskSize": 50},
        "InternetAccessible": {
            "InternetChargeType": "BANDWIDTH_PREPAID" if charge_type == "PREPAID" else "BANDWIDTH_POSTPAID_BY_HOUR",
            "InternetMaxBandwidthOut": 5,
            "PublicIpAssigned": True,
        },
        "InstanceCount": 1,
        "InstanceName": "sdk-" + charge_type.lower(),
        "LoginSettings": {"KeepImageLogin": "TRUE"},
        "ClientToken": token,
        "TagSpecification": [{"ResourceType": "instance", "Tags": [{"Key": "via", "Value": "python-sdk"}]}],
    }
    if charge_type == "PREPAID":
        body["InstanceChargePrepaid"] = {"Period": 1, "RenewFlag": "NOTIFY_AND_MANUAL_RENEW"}
    if charge_type == "SPOTPAID":
        body["InstanceMarketOptions"] = {
            "MarketType": "spot",
            "SpotOptions": {"MaxPrice": "0.41", "SpotInstanceType": "one-time"},
        }
    return body


def hand_signed_call(url, secret_id, secret_key, action, version, region, payload):
    """A call signed over content-type;host;x-tc-action, the action lowercased as the v3 document shows."""
    host = url.replace("http://", "")
    timestamp = int(time.time())
    date = datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")
    content_type = "application/json; charset=utf-8"
    canonical_headers = "content-type:%s\nhost:%s\nx-tc-action:%s\n" % (content_type, host, action.lower())
    signed_headers = "content-type;host;x-tc-action"
    canonical = "POST\n/\n\n%s\n%s\n%s" % (canonical_headers, signed_headers, hashlib.sha256(payload).hexdigest())
    scope = "%s/cvm/tc3_request" % date
    to_sign = "TC3-HMAC-SHA256\n%d\n%s\n%s" % (timestamp, scope, hashlib.sha256(canonical.encode()).hexdigest())

    def sign(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = sign(sign(sign(("TC3" + secret_key).encode(), date), "cvm"), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers = {
        "Authorization": "TC3-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s"
        % (secret_id, scope, signed_headers, signature),
        "Content-Type": content_type,
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Timestamp": str(timestamp),
        "X-TC-Version": version,
        "X-TC-Region": region,
    }
    request = urllib.request.Request(url + "/", data=payload, headers=headers, method="POST")
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())["Response"]


def main():
    url, secret_id, secret_key = sys.argv[1:4]
    endpoint = url.replace("http://", "")
    cred = credential.Credential(secret_id, secret_key)
    cvm = cvm_client.CvmClient(cred, REGION, profile(endpoint))
    billing = billing_client.BillingClient(cred, "", profile(endpoint))

    zones = cvm.DescribeZones(models.DescribeZonesRequest())
    check(zones.TotalCount == len(zones.ZoneSet) and zones.ZoneSet[0].Zone.startswith(REGION), "DescribeZones")

    images = models.DescribeImagesRequest()
    images.from_json_string(json.dumps({"Filters": [{"Name": "platform", "Values": ["Ubuntu"]}]}))
    check(cvm.DescribeImages(images).TotalCount >= 1, "DescribeImages with a platform filter")

    configs = models.DescribeZoneInstanceConfigInfosRequest()
    configs.from_json_string(json.dumps({"Filters": [
        {"Name": "zone", "Values": [ZONE]}, {"Name": "instance-charge-type", "Values": ["SPOTPAID"]}]}))
    spot_items = cvm.DescribeZoneInstanceConfigInfos(configs).InstanceTypeQuotaSet
    check(spot_items and all(i.InstanceChargeType == "SPOTPAID" for i in spot_items), "DescribeZoneInstanceConfigInfos")

    before = billing.DescribeAccountBalance(billing_models.DescribeAccountBalanceRequest())
    check(isinstance(before.Balance, int) and before.Balance == before.RealBalance, "DescribeAccountBalance in fen")

    ids = {}
    for charge_type in ["PREPAID", "POSTPAID_BY_HOUR", "SPOTPAID"]:
        quote = models.InquiryPriceRunInstancesRequest()
        body = purchase(charge_type, "sdk-" + charge_type)
        del body["ClientToken"]
        quote.from_json_string(json.dumps(body))
        price = cvm.InquiryPriceRunInstances(quote).Price
        if charge_type == "PREPAID":
            check(price.InstancePrice.DiscountPrice > 0 and price.InstancePrice.OriginalPrice > 0, "prepaid quote")
        else:
            check(price.InstancePrice.UnitPriceDiscount > 0 and price.InstancePrice.ChargeUnit == "HOUR",
                  charge_type + " quote")

        dry = models.RunInstancesRequest()
        dry.from_json_string(json.dumps(dict(purchase(charge_type, "dry-" + charge_type), DryRun=True)))
        try:
            cvm.RunInstances(dry)
            print("ok: dry run answered with a RequestId")
        except TencentCloudSDKException as error:
            check(error.get_code() == "DryRunOperation", charge_type + " dry run passes")

        run = models.RunInstancesRequest()
        run.from_json_string(json.dumps(purchase(charge_type, "sdk-" + charge_type)))
        bought = cvm.RunInstances(run)
        check(len(bought.InstanceIdSet) == 1, "RunInstances " + charge_type)
        again = cvm.RunInstances(run)
        check(again.InstanceIdSet == bought.InstanceIdSet, "the same ClientToken answers the same ids")
        ids[charge_type] = bought.InstanceIdSet[0]

    describe = models.DescribeInstancesRequest()
    describe.from_json_string(json.dumps({"InstanceIds": list(ids.values())}))
    for _ in range(12):
        found = cvm.DescribeInstances(describe)
        ready = [i for i in found.InstanceSet if i.InstanceState == "RUNNING" and i.PublicIpAddresses]
        if len(ready) == len(ids):
            break
        control(url, "/_sim/advance", {"seconds": 60})
    check(len(ready) == 3, "every instance RUNNING with a public IP")
    check(all(i.Placement.Zone == ZONE and i.CPU == 2 and i.Memory == 4 for i in ready), "instance fields")
    check(all(i.CreatedTime.endswith("Z") for i in ready), "CreatedTime in ISO 8601 UTC")

    status = models.DescribeInstancesStatusRequest()
    status.from_json_string(json.dumps({"InstanceIds": list(ids.values())}))
    check(cvm.DescribeInstancesStatus(status).TotalCount == 3, "DescribeInstancesStatus")

    after = billing.DescribeAccountBalance(billing_models.DescribeAccountBalanceRequest())
    check(after.RealBalance < before.RealBalance, "purchases were paid for")
    check(after.RealBalance == after.CashAccountBalance + after.IncomeIntoAccountBalance
          + after.PresentAccountBalance - after.FreezeAmount - after.OweAmount, "RealBalance identity")
    check(after.FreezeAmount > 0, "pay-as-you-go froze an hour")

    check(all(i.HostName and i.IsolatedSource == "NOTISOLATED" and i.RenewFlag for i in ready),
          "HostName, IsolatedSource and RenewFlag are answered")
    renewals(cvm, ids["PREPAID"])
    refunds(cvm, ids)

    for charge_type in ["POSTPAID_BY_HOUR", "SPOTPAID"]:
        terminate = models.TerminateInstancesRequest()
        terminate.from_json_string(json.dumps({"InstanceIds": [ids[charge_type]]}))
        check(cvm.TerminateInstances(terminate).RequestId, "TerminateInstances " + charge_type)
    prepaid_twice(cvm, ids["PREPAID"])
    unknown_parameter(cvm)
    bills(billing, ids["PREPAID"])

    wrong = cvm_client.CvmClient(credential.Credential(secret_id, "wrong-key"), REGION, profile(endpoint))
    try:
        wrong.DescribeZones(models.DescribeZonesRequest())
        raise AssertionError("a wrong key was accepted")
    except TencentCloudSDKException as error:
        check(error.get_code() == "AuthFailure.SignatureFailure", "a wrong key raises AuthFailure.SignatureFailure")

    answer = hand_signed_call(url, secret_id, secret_key, "DescribeZones", "2017-03-12", REGION, b"{}")
    check("Error" not in answer and answer["TotalCount"] >= 1, "x-tc-action in SignedHeaders verifies")

    variants = [
        ("TC3 over GET", dict(method="GET")),
        ("TC3 with an unsigned payload", dict(unsigned=True)),
        ("HmacSHA256 over POST", dict(sign_method="HmacSHA256")),
        ("HmacSHA1 over GET", dict(method="GET", sign_method="HmacSHA1")),
    ]
    time.sleep(1.1)  # RunInstances is limited to 10 calls a second, and nine were just made
    for number, (name, options) in enumerate(variants):
        other_ways(url, endpoint, cred, secret_id, name, number, options)
    print("ALL OK")


def describe_one(cvm, instance_id):
    describe = models.DescribeInstancesRequest()
    describe.from_json_string(json.dumps({"InstanceIds": [instance_id]}))
    return cvm.DescribeInstances(describe).InstanceSet[0]


def renewals(cvm, instance_id):
    """InquiryPriceRenewInstances, RenewInstances and ModifyInstancesRenewFlag on the prepaid instance."""
    quote = models.InquiryPriceRenewInstancesRequest()
    quote.from_json_string(json.dumps({"InstanceIds": [instance_id], "InstanceChargePrepaid": {"Period": 1}}))
    price = cvm.InquiryPriceRenewInstances(quote).Price.InstancePrice
    check(price.OriginalPrice > 0 and 0 < price.DiscountPrice <= price.OriginalPrice, "InquiryPriceRenewInstances")

    before = describe_one(cvm, instance_id).ExpiredTime
    renew = models.RenewInstancesRequest()
    renew.from_json_string(json.dumps({
        "InstanceIds": [instance_id],
        "InstanceChargePrepaid": {"Period": 1, "RenewFlag": "NOTIFY_AND_MANUAL_RENEW"},
        "RenewPortableDataDisk": True,
    }))
    answer = cvm.RenewInstances(renew)
    renewed = describe_one(cvm, instance_id)
    check(renewed.ExpiredTime > before, "RenewInstances moves ExpiredTime from %s to %s" % (before, renewed.ExpiredTime))
    check(renewed.LatestOperation == "RenewInstances" and renewed.LatestOperationRequestId == answer.RequestId,
          "RenewInstances is the latest operation")

    flag = models.ModifyInstancesRenewFlagRequest()
    flag.from_json_string(json.dumps({"InstanceIds": [instance_id], "RenewFlag": "NOTIFY_AND_AUTO_RENEW"}))
    cvm.ModifyInstancesRenewFlag(flag)
    flagged = describe_one(cvm, instance_id)
    check(flagged.RenewFlag == "NOTIFY_AND_AUTO_RENEW" and flagged.LatestOperation == "ModifyInstancesRenewFlag",
          "ModifyInstancesRenewFlag is reported by DescribeInstances")


def refunds(cvm, ids):
    """InquiryPriceTerminateInstances: a prepaid instance gets money back, a pay-as-you-go one none."""
    for charge_type, expect_money in [("PREPAID", True), ("POSTPAID_BY_HOUR", False)]:
        quote = models.InquiryPriceTerminateInstancesRequest()
        quote.from_json_string(json.dumps({"InstanceIds": [ids[charge_type]]}))
        refund = cvm.InquiryPriceTerminateInstances(quote).InstanceRefundsSet[0]
        check(refund.InstanceId == ids[charge_type] and (refund.Refunds > 0) == expect_money,
              "InquiryPriceTerminateInstances %s refunds %s" % (charge_type, refund.Refunds))


def prepaid_twice(cvm, instance_id):
    """A prepaid instance goes to the recycle bin on the first TerminateInstances, is destroyed on the second."""
    terminate = models.TerminateInstancesRequest()
    terminate.from_json_string(json.dumps({"InstanceIds": [instance_id], "ReleasePrepaidDataDisks": True}))
    cvm.TerminateInstances(terminate)
    recycled = describe_one(cvm, instance_id)
    check(recycled.InstanceState == "SHUTDOWN" and recycled.IsolatedSource == "MANMADE",
          "a prepaid instance goes to the recycle bin first")
    cvm.TerminateInstances(terminate)
    check(describe_one(cvm, instance_id).InstanceState == "TERMINATING", "the second TerminateInstances destroys it")


def bills(billing, prepaid_id):
    """The bill actions answer the SDK's models, and their amounts are decimal strings that agree."""
    detail = billing_models.DescribeBillDetailRequest()
    detail.from_json_string(json.dumps({"Offset": 0, "Limit": 300, "Month": SIM_MONTH, "NeedRecordNum": 1}))
    lines = billing.DescribeBillDetail(detail)
    check(lines.Total == len(lines.DetailSet) and lines.Total >= 1, "DescribeBillDetail lists the lines")
    purchase = [line for line in lines.DetailSet
                if line.ResourceId == prepaid_id and line.ActionTypeName == "包年包月新购"]
    check(len(purchase) == 1 and purchase[0].PayModeName == "包年包月", "the prepaid purchase is a bill line")
    check(float(purchase[0].ComponentSet[0].RealCost) > 0, "its RealCost is a decimal string")
    line_total = sum(Decimal(c.RealCost) for line in lines.DetailSet for c in line.ComponentSet)

    summary = billing_models.DescribeBillResourceSummaryRequest()
    summary.from_json_string(json.dumps({"Offset": 0, "Limit": 1000, "Month": SIM_MONTH, "NeedRecordNum": 1}))
    rows = billing.DescribeBillResourceSummary(summary)
    check(sum(Decimal(r.RealTotalCost) for r in rows.ResourceSummarySet) == line_total,
          "DescribeBillResourceSummary adds up to the lines")

    costs = billing_models.DescribeCostSummaryByResourceRequest()
    costs.from_json_string(json.dumps({"BeginTime": SIM_MONTH, "EndTime": SIM_MONTH, "Offset": 0, "Limit": 100,
                                       "NeedRecordNum": 1, "NeedConditionValue": 1}))
    answer = billing.DescribeCostSummaryByResource(costs)
    check(answer.Ready == 1 and Decimal(answer.Total.RealTotalCost) == line_total,
          "DescribeCostSummaryByResource totals the lines")
    check(answer.ConditionValue.PayMode and answer.RecordNum == len(answer.Data), "its filters and count are read")


def unknown_parameter(cvm):
    """A member the API does not have is refused (the SDK's models drop such keys, so send it raw)."""
    try:
        cvm.call_json("RunInstances", dict(purchase("POSTPAID_BY_HOUR", "unknown"), Datadisks=[{"DiskSize": 100}]))
        raise AssertionError("Datadisks was accepted")
    except TencentCloudSDKException as error:
        check(error.get_code() == "UnknownParameter" and "Datadisks" in error.get_message(),
              "a misspelt member is refused as UnknownParameter")


def other_ways(url, endpoint, cred, secret_id, name, number, options):
    """Buys, describes and terminates through one of the SDK's other request forms."""
    cvm = cvm_client.CvmClient(cred, REGION, profile(endpoint, **options))
    configs = models.DescribeZoneInstanceConfigInfosRequest()
    configs.from_json_string(json.dumps({"Filters": [
        {"Name": "zone", "Values": [ZONE]}, {"Name": "instance-charge-type", "Values": ["POSTPAID_BY_HOUR"]}]}))
    items = cvm.DescribeZoneInstanceConfigInfos(configs).InstanceTypeQuotaSet
    check(items and all(i.Zone == ZONE for i in items), name + ": nested filters arrive whole")

    body = purchase("POSTPAID_BY_HOUR", "variant-%d" % number)
    body["InstanceCount"] = 2
    body["DataDisks"] = [{"DiskType": "CLOUD_PREMIUM", "DiskSize": 100, "DeleteWithInstance": True}]
    dry = models.RunInstancesRequest()
    dry.from_json_string(json.dumps(dict(body, DryRun=True)))
    try:
        cvm.RunInstances(dry)
        print("ok: %s: dry run answered with a RequestId" % name)
    except TencentCloudSDKException as error:
        check(error.get_code() == "DryRunOperation", name + ": a dry run with booleans and numbers passes")
    run = models.RunInstancesRequest()
    run.from_json_string(json.dumps(body))
    bought = cvm.RunInstances(run).InstanceIdSet
    check(len(bought) == 2, name + ": RunInstances with InstanceCount 2")

    describe = models.DescribeInstancesRequest()
    describe.from_json_string(json.dumps({"InstanceIds": bought, "Offset": 0, "Limit": 1}))
    found = cvm.DescribeInstances(describe)
    check(found.TotalCount == 2 and len(found.InstanceSet) == 1, name + ": DescribeInstances pages with Limit 1")
    check(found.InstanceSet[0].DataDisks[0].DiskSize == 100, name + ": the data disk was bought as asked")

    control(url, "/_sim/advance", {"seconds": 60})  # a PENDING instance cannot be terminated yet
    terminate = models.TerminateInstancesRequest()
    terminate.from_json_string(json.dumps({"InstanceIds": bought}))
    check(cvm.TerminateInstances(terminate).RequestId, name + ": TerminateInstances")

    wrong = cvm_client.CvmClient(credential.Credential(secret_id, "wrong-key"), REGION, profile(endpoint, **options))
    try:
        wrong.DescribeZones(models.DescribeZonesRequest())
        raise AssertionError(name + ": a wrong key was accepted")
    except TencentCloudSDKException as error:
        check(error.get_code() == "AuthFailure.SignatureFailure", name + ": a wrong key is refused")


if __name__ == "__main__":
    main()
